/**
 * The text-format reader (fixtures/app/text-format.ts) against Prometheus' own parser: for each
 * page, `promtool check metrics` (Debian's Prometheus 2.42, github.com/prometheus/common expfmt)
 * and the reader must agree on whether the page parses. Lint findings of promtool (missing HELP,
 * counter suffixes) are not parse errors and are ignored.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTextFormat } from '../fixtures/app/text-format.ts';
import { promtool } from './support/promtool.ts';

const VALID: Record<string, string> = {
  'prom-client counters and a histogram': [
    '# HELP http_requests_total Requests.',
    '# TYPE http_requests_total counter',
    'http_requests_total{method="GET",route="/api/tasks/[id]",status="200"} 3',
    '# HELP http_request_duration_seconds Latency.',
    '# TYPE http_request_duration_seconds histogram',
    'http_request_duration_seconds_bucket{le="0.1",method="GET"} 1',
    'http_request_duration_seconds_bucket{le="+Inf",method="GET"} 2',
    'http_request_duration_seconds_sum{method="GET"} 0.3',
    'http_request_duration_seconds_count{method="GET"} 2',
    '',
  ].join('\n'),
  'escapes, a trailing comma, NaN, ±Inf, exponents and a timestamp': 'x{a="q\\"u\\\\o\\nte",b="},{",} NaN 1700000000000\nx{a="1"} -Inf\nx{a="2"} +Inf\nx{a="3"} 1.5e-3\nx{a="4"} .5\n',
  'free comments, blank lines and a summary': '# just a comment\n\n# TYPE q summary\nq{quantile="0.5"} 1\nq_sum 3\nq_count 4\n',
  'an empty label set and a HELP without text': '# HELP y\ny{} 1\n',
  'blanks around the label set, none before the value': 'x {a="b"} 1\nx{a="c"}1\n',
  'a histogram bucket without le (expfmt does not check it)': '# TYPE h histogram\nh_bucket{a="b"} 1\n',
};

const INVALID: Record<string, string> = {
  'a line that is not a sample': 'good 1\nnot a sample line\n',
  'an unterminated label value': 'x{a="b" 1\n',
  'a third number after the timestamp': 'x 1 2 3\n',
  'a value that is not a float': 'x abc\n',
  'an escape the format does not know': 'x{a="\\t"} 1\n',
  'a label without a quoted value': 'x{a=b} 1\n',
  'a missing value': 'x{a="b"}\n',
  'a timestamp that is not an integer': 'x 1 1.5\n',
  'an unknown TYPE': '# TYPE x gauges\nx 1\n',
  'TYPE after the samples': 'x 1\n# TYPE x gauge\n',
  'a second TYPE line': '# TYPE x gauge\n# TYPE x gauge\nx 1\n',
  'a label name given twice': 'x{a="1",a="2"} 1\n',
  'a metric name starting with a digit': '1x 1\n',
};

void describe('text format reader agrees with Prometheus (promtool check metrics)', () => {
  for (const [what, page] of Object.entries(VALID)) {
    void it(`parses: ${what}`, async () => {
      const ours = parseTextFormat(page);
      const theirs = await promtool(['check', 'metrics'], process.cwd(), page);
      assert.doesNotMatch(theirs.output, /text format parsing error/, `promtool refuses the page itself:\n${theirs.output}`);
      assert.deepEqual(ours.errors, []);
    });
  }
  for (const [what, page] of Object.entries(INVALID)) {
    void it(`refuses: ${what}`, async () => {
      const ours = parseTextFormat(page);
      const theirs = await promtool(['check', 'metrics'], process.cwd(), page);
      assert.match(theirs.output, /text format parsing error in line (\d+)/, `promtool accepts the page:\n${theirs.output}`);
      const line = /text format parsing error in line (\d+)/.exec(theirs.output)?.[1];
      assert.equal(ours.errors.length, 1, `expected one error, got ${JSON.stringify(ours.errors)}`);
      assert.match(ours.errors[0] ?? '', new RegExp(`^line ${line}: `), `promtool: ${theirs.output}`);
    });
  }
});

void describe('what the reader returns', () => {
  void it('samples keep their labels, unescaped, their value and timestamp; types and help by family', () => {
    const page = parseTextFormat(VALID['escapes, a trailing comma, NaN, ±Inf, exponents and a timestamp'] ?? '');
    assert.deepEqual(page.samples[0]?.labels, { a: 'q"u\\o\nte', b: '},{' });
    assert.ok(Number.isNaN(page.samples[0]?.value));
    assert.equal(page.samples[0]?.timestampMs, 1_700_000_000_000);
    assert.deepEqual(page.samples.slice(1).map((s) => s.value), [-Infinity, Infinity, 0.0015, 0.5]);
    const hist = parseTextFormat(VALID['prom-client counters and a histogram'] ?? '');
    assert.equal(hist.types.get('http_request_duration_seconds'), 'histogram');
    assert.equal(hist.help.get('http_requests_total'), 'Requests.');
    assert.deepEqual(
      hist.samples.filter((s) => s.name.startsWith('http_request_duration_seconds')).map((s) => `${s.name} ${JSON.stringify(s.labels)} ${s.value}`),
      [
        'http_request_duration_seconds_bucket {"le":"0.1","method":"GET"} 1',
        'http_request_duration_seconds_bucket {"le":"+Inf","method":"GET"} 2',
        'http_request_duration_seconds_sum {"method":"GET"} 0.3',
        'http_request_duration_seconds_count {"method":"GET"} 2',
      ],
    );
  });

  void it('every bad line is reported with its number, not only the first', () => {
    assert.deepEqual(parseTextFormat('a 1\nb c\nd 2\ne{ 1\n').errors.map((e) => e.split(':')[0]), ['line 2', 'line 4']);
  });
});
