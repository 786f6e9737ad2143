/**
 * OBS-08: TaskPlanner exposes `/metrics` — default process/Node.js metrics and HTTP request
 * metrics labelled by method, route template and status; traffic moves those series in
 * the app and in Prometheus; route labels stay bounded.
 */
import { expect, test } from '../fixtures/index.ts';

const REQUESTS = 'http_requests_total';
const DURATION = 'http_request_duration_seconds';
const DEFAULT_METRICS = ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes'];

test.describe('OBS-08 TaskPlanner exposes /metrics', { tag: ['@OBS-08'] }, () => {
  test('/metrics answers in the Prometheus text format with default and HTTP metrics', async ({ taskplanner, evidence }) => {
    await test.step('TaskPlanner answers a request to its list page, so HTTP series exist', async () => {
      expect(await taskplanner.send(['/']), `GET ${taskplanner.baseUrl}/ should answer 200; check the TaskPlanner pod's logs.`).toEqual({ 200: 1 });
    });

    const page = await test.step('GET /metrics answers in the Prometheus text format', async () => {
      const scraped = await taskplanner.scrape();
      await evidence.attach('GET /metrics: HTTP series', scraped.httpExcerpt());
      await evidence.attach('GET /metrics: metric families', Object.fromEntries(scraped.types));
      expect(scraped.contentType, 'the content type Prometheus expects for the text format (prom-client sends it as register.contentType)').toMatch(/^text\/plain;\s*version=0\.0\.4/);
      expect(scraped.formatErrors, 'lines Prometheus would refuse in the text format; see the attached page').toEqual([]);
      return scraped;
    });

    await test.step('it holds the default process and Node.js metrics', () => {
      const missing = DEFAULT_METRICS.filter((name) => !page.types.has(name));
      expect(missing, 'default metrics missing from /metrics: is collectDefaultMetrics({ register }) called on the registry that /metrics serves?').toEqual([]);
    });

    await test.step(`${REQUESTS} is a counter and ${DURATION} a histogram`, () => {
      expect({ [REQUESTS]: page.types.get(REQUESTS), [DURATION]: page.types.get(DURATION) }, 'metric types declared by # TYPE lines').toEqual({
        [REQUESTS]: 'counter',
        [DURATION]: 'histogram',
      });
    });

    await test.step('both are labelled by method, route and status_code', () => {
      expect(page.labelNames(REQUESTS), `label names on ${REQUESTS}`).toEqual(expect.arrayContaining(['method', 'route', 'status_code']));
      expect(page.labelNames(DURATION), `label names on ${DURATION} (buckets add le)`).toEqual(expect.arrayContaining(['le', 'method', 'route', 'status_code']));
    });
  });

  test('traffic to TaskPlanner moves its HTTP series, in the app and in Prometheus', async ({ taskplanner, taskplannerInPrometheus, trafficPlan, evidence }) => {
    const inApp = await taskplanner.counter(trafficPlan.knownRoutes);

    const inPrometheusBefore = await test.step('Prometheus has scraped the app’s counters as they stand before the traffic', () =>
      taskplannerInPrometheus.caughtUpWith(inApp.before.requests),
    );

    await evidence.attach('request counts before the traffic', { app: inApp.before, prometheus: inPrometheusBefore });

    await test.step(`send ${trafficPlan.knownPaths.length} GET requests to ${trafficPlan.knownRoutes.join(' and ')}`, async () => {
      const statuses = await taskplanner.send(trafficPlan.knownPaths);
      expect(statuses, `every request to ${taskplanner.baseUrl} should answer 200`).toEqual({ 200: trafficPlan.knownPaths.length });
    });

    await test.step('the app counts and times each request under its route template', async () => {
      const increase = await inApp.increase();
      await evidence.attach('increase on /metrics', { sent: trafficPlan.expectedIncrease, ...increase });
      expect(trafficPlan.shortfalls(increase.requests), `${REQUESTS}{method="GET",status_code="200"} should rise by what was sent; short routes listed (with several replicas behind TASKPLANNER_URL, each scrape sees one pod)`).toEqual([]);
      expect(trafficPlan.shortfalls(increase.timed), `${DURATION}_count should rise with every counted request`).toEqual([]);
    });

    await test.step(`Prometheus shows the increase under job "${taskplannerInPrometheus.job}" within three scrape intervals`, async () => {
      const seen = await taskplannerInPrometheus.waitForIncrease(inPrometheusBefore, trafficPlan.expectedIncrease);
      await evidence.attach('increase in Prometheus', { sent: trafficPlan.expectedIncrease, ...seen });
      evidence.figure('OBS-08 traffic visible in Prometheus after', Math.round(seen.elapsedMs / 100) / 10, 's');
    });
  });

  test('route labels stay bounded after requests to many ids and unknown paths', async ({ taskplanner, taskplannerInPrometheus, trafficPlan, evidence }) => {
    const before = (await taskplanner.scrape()).labelValues(REQUESTS, 'route');
    const totalInPrometheus = await taskplannerInPrometheus.requests({});
    const sent = trafficPlan.ids.length + trafficPlan.unknown.length;

    await test.step(`send ${trafficPlan.ids.length} requests to distinct task ids and ${trafficPlan.unknown.length} to unknown paths, each with a query string`, async () => {
      const statuses = await taskplanner.send([...trafficPlan.ids, ...trafficPlan.unknown]);
      await evidence.attach('answers by status', statuses);
    });

    const after = await test.step('the app’s route label values hold no raw path, id or query string', async () => {
      const values = (await taskplanner.scrape()).labelValues(REQUESTS, 'route');
      await evidence.attach('route label values on /metrics', { before, after: values, marker: trafficPlan.marker });
      expect(trafficPlan.leaksIn(values), `route values carrying a raw path (marker ${trafficPlan.marker}), a 9-digit id or a query string: the hook must label by event.route.id`).toEqual([]);
      return values;
    });

    await test.step(`the number of route values grew by at most 2 (the id template and the unmatched value), not by ${sent}`, () => {
      expect(after.length - before.length, `route values before: ${before.length}, after: ${after.length}`).toBeLessThanOrEqual(2);
    });

    await test.step('Prometheus, once it has scraped that traffic, holds no route value from it', async () => {
      await taskplannerInPrometheus.waitForTotal(totalInPrometheus + sent);
      const values = await taskplannerInPrometheus.routeValues();
      await evidence.attach('route label values in Prometheus', { job: taskplannerInPrometheus.job, values });
      expect(trafficPlan.leaksIn(values), `route values in Prometheus under job="${taskplannerInPrometheus.job}" carrying a raw path, id or query string`).toEqual([]);
      evidence.figure('OBS-08 distinct route values in Prometheus', values.length);
    });
  });
});
