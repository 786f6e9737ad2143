/**
 * OBS-04 Alloy replaces Promtail: an Alloy DaemonSet has a ready pod on every schedulable
 * node, no Promtail DaemonSet remains (while both run, the report says so), streams carry
 * the labels Promtail produced, lines arrive from every node, and the switch itself lost no
 * line (the report of `npm run migration:watch`, MIGRATION_REPORT). Migration steps:
 * manifests/alloy/README.md.
 */
import { expect, test } from '../fixtures/index.ts';

test.describe('OBS-04 Alloy replaces Promtail', () => {
  test('an Alloy DaemonSet has a ready pod on every schedulable node', { tag: ['@OBS-04'] }, async ({ logAgents, evidence }) => {
    const alloy = await test.step('an Alloy DaemonSet is installed', async () => {
      const { alloy: found, described } = await logAgents.daemonSets();
      await evidence.attach('Alloy DaemonSets', described.alloy);
      expect(described.alloy, 'exactly one Alloy DaemonSet should run (install it: manifests/alloy/README.md step 1)').toHaveLength(1);
      return found[0]!;
    });

    await test.step('it has a ready pod on every schedulable node', async () => {
      const { nodes, problems } = await logAgents.coverage(alloy);
      await evidence.attach('Alloy coverage', { daemonSet: logAgents.describe(alloy), schedulableNodes: nodes, problems });
      evidence.figure('OBS-04 nodes with a ready Alloy pod', `${nodes.length - problems.length}/${nodes.length}`);
      expect(nodes, 'schedulable nodes listed by the Kubernetes API').not.toHaveLength(0);
      expect(problems, `${logAgents.describe(alloy)} should have a ready pod on each of ${nodes.join(', ')}`).toEqual([]);
    });
  });

  test('no Promtail DaemonSet remains', { tag: ['@OBS-04'] }, async ({ logAgents, evidence }) => {
    await test.step('no DaemonSet in any namespace runs Promtail', async () => {
      const { described, migration } = await logAgents.daemonSets();
      test.info().annotations.push({ type: 'log agent migration', description: migration });
      evidence.figure('OBS-04 migration', migration);
      await evidence.attach('log agents', { ...described, migration });
      expect(described.promtail, `${migration}. Remove Promtail once the other OBS-04 tests pass (manifests/alloy/README.md step 3)`).toEqual([]);
    });
  });

  test("the marker pod's stream carries the labels Promtail produced", { tag: ['@OBS-04'] }, async ({ markerPod, evidence }) => {
    const delivery = await test.step('the marker lines reach Loki', async () => {
      const d = await markerPod.delivery();
      await evidence.attach('marker delivery', { query: markerPod.query, summary: d.summary, timeout: d.timeout });
      expect(d.sightings.length, `no marker line of ${markerPod.namespace}/${markerPod.pod.metadata?.name} reached Loki (${markerPod.query}): ${d.summary}${d.timeout ? `\n${d.timeout}` : ''}`).toBeGreaterThan(0);
      return d;
    });

    await test.step('namespace, pod, container, app, job = namespace/app, node_name, filename and stream are as Promtail set them', async () => {
      const labels = delivery.sightings[0]!.labels;
      const problems = markerPod.labelProblems(delivery.sightings[0]!);
      await evidence.attach('marker stream labels', labels);
      expect(problems, `labels of the marker stream (${markerPod.query}) differ from Promtail's; compare manifests/alloy/config.alloy with Promtail's kubernetes-pods job`).toEqual([]);
    });
  });

  test('the switch from Promtail to Alloy lost no line', { tag: ['@OBS-04'] }, async ({ migrationSwitch }) => {
    const watched = await test.step('the migration watch that saw the switch left its report (MIGRATION_REPORT)', async () => {
      const r = await migrationSwitch.report();
      test.info().annotations.push({ type: 'migration watch', description: r.summary });
      return r;
    });

    await test.step('the watch saw the switch: Promtail ran, then left every node, and Alloy shipped every node\'s heartbeat', () => {
      expect(watched.switchProblems, `the report ${migrationSwitch.path} does not show a complete switch (manifests/alloy/README.md: start the watch before step 1, end it after step 3)`).toEqual([]);
    });

    await test.step('no node\'s heartbeat fell silent longer than HEARTBEAT_MAX_GAP_SECONDS', () => {
      expect(watched.verdict.gaps, `heartbeat lines were lost during the switch: ${watched.summary}`).toEqual([]);
    });

    await test.step('no line was shipped twice after Promtail was gone', () => {
      expect(watched.verdict.duplicates, `Alloy shipped lines twice after Promtail left: ${watched.summary}`).toEqual([]);
    });
  });

  test('log lines arrive from every schedulable node', { tag: ['@OBS-04'] }, async ({ nodeMarkers, evidence }) => {
    await test.step('a marker pod on each node is read back from Loki with that node in node_name', async () => {
      const perNode = await nodeMarkers.delivery();
      await evidence.attach('lines per node', perNode);
      evidence.figure('OBS-04 nodes whose lines reached Loki', `${perNode.filter((n) => n.seen === n.expected).length}/${perNode.length}`);
      expect(perNode, 'nodes that got a marker pod').not.toHaveLength(0);
      const want = perNode.map((n) => ({ node: n.node, seen: n.expected, nodeNameLabels: [n.node] }));
      expect(perNode.map((n) => ({ node: n.node, seen: n.seen, nodeNameLabels: n.nodeNameLabels })), `every node's marker lines should reach Loki labelled with that node (look at the Alloy pod on a node that falls short):\n${perNode.map((n) => `${n.node}: ${n.summary}`).join('\n')}`).toEqual(want);
    });
  });
});
