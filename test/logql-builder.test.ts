/**
 * The LogQL builder's output is parsed by Grafana's own LogQL grammar (`@grafana/lezer-logql`,
 * the parser behind Grafana's Loki query editor); every string literal is then unquoted the
 * way Loki does it (Go `strconv.Unquote`, re-implemented below from the Go spec) and must
 * give back the exact value that went in.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parser } from '@grafana/lezer-logql';
import { escapeRegex, logQuery, quote, streamSelector } from '../fixtures/loki/logql.ts';

/** Go's strconv.Unquote for double-quoted literals (https://go.dev/ref/spec#Rune_literals). */
function goUnquote(literal: string): string {
  assert.ok(literal.startsWith('"') && literal.endsWith('"') && literal.length >= 2, `not a double-quoted literal: ${literal}`);
  const body = literal.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === '"' || c === '\n') throw new Error(`unescaped ${JSON.stringify(c)} inside a Go string at ${i}`);
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' };
    if (e !== undefined && e in simple) out += simple[e];
    else if (e === 'x') {
      out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (e === 'u' || e === 'U') {
      const n = e === 'u' ? 4 : 8;
      out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 1 + n), 16));
      i += n;
    } else if (e !== undefined && /[0-7]/.test(e)) {
      out += String.fromCharCode(parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else throw new Error(`invalid escape \\${e} in a Go string`);
  }
  return out;
}

function parse(query: string): { errors: number[]; strings: string[]; nodes: string[] } {
  const tree = parser.parse(query);
  const errors: number[] = [];
  const strings: string[] = [];
  const nodes: string[] = [];
  tree.iterate({
    enter: (n) => {
      nodes.push(n.name);
      if (n.type.isError) errors.push(n.from);
      if (n.name === 'String') strings.push(query.slice(n.from, n.to));
    },
  });
  return { errors, strings, nodes };
}

const NASTY = [
  'plain',
  'with "double" quotes',
  "single ' quote",
  'back\\slash and \\" escaped quote',
  'trailing backslash\\',
  'regex .*+?()[]{}|^$ meta',
  'new\nline\ttab\rreturn',
  'backtick ` inside',
  'unicode ünïcödé 🌙 and \u0001 control',
  '',
];

void describe('LogQL builder (output parsed by @grafana/lezer-logql)', () => {
  for (const value of NASTY) {
    void it(`quotes ${JSON.stringify(value)} so the grammar accepts it and Loki reads back the same text`, () => {
      const query = logQuery({ namespace: value, pod: 'p' }).contains(value).notContains(value).toString();
      const { errors, strings, nodes } = parse(query);
      assert.deepEqual(errors, [], `lezer-logql found syntax errors at ${errors.join(', ')} in ${query}`);
      assert.ok(nodes.includes('Selector') && nodes.includes('LineFilter'), `expected a selector and line filters in ${nodes.join(' ')}`);
      assert.deepEqual(strings.map(goUnquote), [value, 'p', value, value]);
    });
  }

  void it('escapes regular expression metacharacters so a regex matcher matches only the literal text', () => {
    const literal = 'a.b*c+(d)[e]{f}|g^h$i?j\\k';
    const re = new RegExp(`^${escapeRegex(literal)}$`);
    assert.ok(re.test(literal));
    for (const other of ['aXb*c+(d)[e]{f}|g^h$i?j\\k', 'a.bbbc+(d)[e]{f}|g^h$i?j\\k', 'g^h$i?j\\k']) assert.equal(re.test(other), false, other);
    const query = logQuery([{ label: 'pod', op: '=~', value: `${escapeRegex(literal)}.*` }]).matches(escapeRegex(literal)).toString();
    const { errors, strings } = parse(query);
    assert.deepEqual(errors, []);
    assert.deepEqual(strings.map(goUnquote), [`${escapeRegex(literal)}.*`, escapeRegex(literal)]);
  });

  void it('refuses label names Loki would reject and empty selectors', () => {
    assert.throws(() => streamSelector({ 'app.kubernetes.io/name': 'x' }), /not a valid Loki label name/);
    assert.throws(() => streamSelector({ '1abc': 'x' }), /not a valid Loki label name/);
    assert.throws(() => streamSelector({}), /at least one matcher/);
  });

  void it('the grammar itself rejects a hand-made query with an unescaped quote (the check can fail)', () => {
    assert.notDeepEqual(parse('{namespace="a"b"}').errors, []);
    assert.equal(quote('a"b'), '"a\\"b"');
  });
});
