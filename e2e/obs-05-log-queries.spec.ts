/**
 * OBS-05 Log queries work: a pod in the run's namespace writes unique marker lines; each is
 * found through the Loki API with the expected labels, through Grafana's datasource query
 * API and on screen in Grafana Explore; the time from write to visible is measured per line
 * and reported (p50, p95, maximum), a late line told apart from a missing one, from one Loki's
 * errors kept the reader from reading, and the node's clock offset measured and reported apart.
 */
import { expect, test } from '../fixtures/index.ts';

test.describe('OBS-05 Log queries work', () => {
  test('every marker line is found through the Loki API and through Grafana, and its delivery time is measured', { tag: ['@OBS-05'] }, async ({ markerPod, grafanaLogs, config, evidence }) => {
    await test.step(`the marker pod in the run's namespace wrote ${config.markerLines} lines`, async () => {
      const lines = await markerPod.written();
      await evidence.attach('lines the marker pod wrote (kubectl logs)', lines.map((l) => `#${l.seq} ${l.id} written_ns=${l.writtenNs}`).join('\n'));
      expect(lines.map((l) => l.id)).toEqual(markerPod.expected.map((e) => e.id));
    });

    const delivery = await test.step('every marker line is found through the Loki API', async () => {
      const d = await markerPod.delivery();
      const r = d.report;
      await evidence.attach('Loki API delivery', { query: markerPod.query, summary: d.summary, onTime: r.onTime, late: r.late, missing: r.missing, unread: r.unread, outsideWindow: r.outsideWindow, errors: r.errors, nodeClock: d.clock, nodeClockOffset: r.skew, context: r.context });
      evidence.figure('OBS-05 node clock', d.clock);
      expect(r.unread, `marker lines the reader could not read because Loki answered with errors (${markerPod.query}): ${d.summary}${d.timeout ? `\n${d.timeout}` : ''}`).toEqual([]);
      expect(r.missing, `marker lines not in Loki (${markerPod.query}), looked for ${(2 * markerPod.budgetMs) / 1000} s and then over everything Loki accepts: ${d.summary}${d.timeout ? `\n${d.timeout}` : ''}`).toEqual([]);
      return d;
    });

    await test.step('each line carries the labels of its pod, as Promtail set them', async () => {
      const problems = delivery.sightings.flatMap((s) => markerPod.labelProblems(s).map((p) => `#${s.marker.seq}: ${p}`));
      await evidence.attach('marker stream labels', delivery.sightings[0]?.labels ?? {});
      expect(problems, `stream labels of the marker lines (${markerPod.query})`).toEqual([]);
    });

    await test.step(`the time from write to visible is at most LOG_MAX_DELAY_SECONDS (${config.logMaxDelaySeconds} s) for every line`, () => {
      expect(delivery.report.outsideWindow, `lines found only outside the window watched, so their write→visible time is unknown (${delivery.clock}): ${delivery.summary}`).toEqual([]);
      const l = delivery.report.latency!;
      evidence.figure('OBS-05 write→visible p50', l.p50Ms, 'ms');
      evidence.figure('OBS-05 write→visible p95', l.p95Ms, 'ms');
      evidence.figure('OBS-05 write→visible max', l.maxMs, 'ms');
      evidence.figure('OBS-05 lines late / missing', `${delivery.report.late.length} / ${delivery.report.missing.length}`);
      test.info().annotations.push({ type: 'log delivery', description: delivery.summary });
      expect(delivery.report.late, `lines visible only after the ${config.logMaxDelaySeconds} s budget: ${delivery.summary}`).toEqual([]);
    });

    await test.step("Grafana's Loki datasource returns every marker line through /api/ds/query", async () => {
      const { chosen, all } = await grafanaLogs.datasource();
      const { rows, layouts } = await grafanaLogs.query(chosen.uid, markerPod.query, delivery.range.fromMs, delivery.range.toMs);
      await evidence.attach('Grafana /api/ds/query', { datasource: chosen, lokiDatasources: all.map((d) => `${d.name} (${d.uid})`), frameLayouts: layouts, rows: rows.map((r) => r.line) });
      const found = markerPod.expected.map((e) => e.id).filter((id) => rows.some((r) => r.line.includes(id)));
      expect(found, `Grafana datasource "${chosen.name}" (uid ${chosen.uid}) should return every marker line for ${markerPod.query}`).toEqual(markerPod.expected.map((e) => e.id));
    });
  });

  test('the marker lines are visible in Grafana Explore with the Loki datasource', { tag: ['@OBS-05', '@ui'] }, async ({ markerPod, grafanaLogs, lokiExplore, evidence }) => {
    const delivery = await test.step('the marker lines are in Loki', async () => {
      const d = await markerPod.delivery();
      expect([...d.report.unread, ...d.report.missing], `marker lines not found in Loki, so Explore cannot show them: ${d.summary}`).toEqual([]);
      return d;
    });

    const range = { from: delivery.range.fromMs, to: delivery.range.toMs };

    const datasource = await test.step('Explore opens with the Loki datasource and the marker query, and shows no query error', async () => {
      const { chosen } = await grafanaLogs.datasource();
      const url = await lokiExplore.open({ datasourceUid: chosen.uid, expr: markerPod.query, ...range });
      await evidence.attach('Explore link', url);
      await expect(lokiExplore.page.container(), `Explore should open at ${url}`).toBeVisible();
      const outcome = await lokiExplore.page.outcome();
      await evidence.attach('Explore query answers', outcome);
      expect(outcome.errors, 'Explore shows no query error').toEqual([]);
      await evidence.screenshot('Grafana Explore with the marker query', await lokiExplore.page.container().screenshot());
      return chosen;
    });

    // Explore's log list draws only the rows in view, and Explore asks Loki for at most 1000
    // lines: each sampled line gets its own query, so the check holds for any MARKER_LINES.
    const sample = lokiExplore.sampleForScreen(markerPod.expected);

    await test.step(`${sample.length} of the ${markerPod.expected.length} marker lines (first, last, evenly spaced), each queried on its own, are shown on screen`, async () => {
      for (const line of sample) {
        const url = await lokiExplore.open({ datasourceUid: datasource.uid, expr: lokiExplore.narrowTo(markerPod.query, `id=${line.id} seq=`), ...range });
        const outcome = await lokiExplore.page.outcome();
        expect(outcome.errors, `Explore shows no query error for marker line #${line.seq} (${url})`).toEqual([]);
        await expect(lokiExplore.page.logLine(line.onScreen), `marker line #${line.seq} (${line.id}) should be listed in Explore at ${url}`).toBeVisible({ timeout: 30_000 });
      }
      await evidence.screenshot('Grafana Explore with the last sampled marker line', await lokiExplore.page.container().screenshot());
    });
  });
});
