/**
 * The Explore URL builder. The expected shape is the one Grafana's Explore writes to the
 * address bar since the `panes` format (Grafana 10): `schemaVersion=1`, `panes` as a JSON
 * object keyed by a 3-character pane id, `datasource` as the uid string, the query's own
 * `datasource` as `{type, uid}`, and `orgId`; for example
 * `/explore?schemaVersion=1&panes={"7ih":{"datasource":"000000193","queries":[{"refId":"A",
 * "expr":"…","queryType":"range","datasource":{"type":"loki","uid":"000000193"},
 * "editorMode":"code"}],"range":{"from":"now-1h","to":"now"}}}&orgId=1`.
 * The expression goes through the LogQL builder and must survive URL encoding unchanged.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exploreUrl, newPaneId } from '../fixtures/grafana/explore-page.ts';
import { logQuery } from '../fixtures/loki/logql.ts';

void describe('Explore URL builder', () => {
  void it('encodes one Loki pane with the datasource uid, the query and an absolute range', () => {
    const expr = logQuery({ namespace: 'obs-acc-r1', pod: 'obs-marker-main' }).contains('obsmk-r1 "quoted" & 50% #hash').toString();
    const url = exploreUrl({ datasourceUid: 'loki', expr, from: 1_700_000_000_000.7, to: 1_700_000_600_000, paneId: 'p1x' });
    const u = new URL(url, 'https://grafana.example');
    assert.equal(u.pathname, '/explore');
    assert.equal(u.searchParams.get('schemaVersion'), '1');
    assert.equal(u.searchParams.get('orgId'), '1');
    assert.deepEqual(JSON.parse(u.searchParams.get('panes') ?? ''), {
      p1x: {
        datasource: 'loki',
        queries: [{ refId: 'A', expr, queryType: 'range', editorMode: 'code', datasource: { type: 'loki', uid: 'loki' } }],
        range: { from: '1700000000000', to: '1700000600000' },
      },
    });
    assert.equal([...u.searchParams.keys()].length, 3, 'no parameter leaks out of the encoded panes JSON');
  });

  void it('keeps relative times and another organisation as given', () => {
    const u = new URL(exploreUrl({ datasourceUid: 'P8E80F9AEF21F6940', expr: '{a="b"}', from: 'now-1h', to: 'now', orgId: 3, paneId: 'abc' }), 'http://g');
    const panes = JSON.parse(u.searchParams.get('panes') ?? '') as Record<string, { datasource: string; range: unknown }>;
    assert.deepEqual(Object.keys(panes), ['abc']);
    assert.equal(panes.abc?.datasource, 'P8E80F9AEF21F6940');
    assert.deepEqual(panes.abc?.range, { from: 'now-1h', to: 'now' });
    assert.equal(u.searchParams.get('orgId'), '3');
  });

  void it('makes 3-character pane ids and refuses others', () => {
    const ids = new Set(Array.from({ length: 200 }, () => newPaneId()));
    for (const id of ids) assert.match(id, /^[a-z0-9]{3}$/);
    assert.ok(ids.size > 150, `pane ids should vary, got ${ids.size} distinct of 200`);
    assert.throws(() => exploreUrl({ datasourceUid: 'loki', expr: '{a="b"}', from: 0, to: 1, paneId: 'left' }), /3 lowercase letters or digits/);
  });
});
