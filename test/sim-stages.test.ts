/**
 * The kwok Stages of the simulated cluster (sim/kwok/*.yaml) never leave a pod's fate to chance.
 * kwok plays one Stage per change of a resource; when several match, those with a weight above 0
 * win over those without, and among the rest kwok draws one at random in proportion to the
 * weights (sigs.k8s.io/kwok v0.8.0 pkg/utils/lifecycle/lifecycle.go, Lifecycle.Match). A pod that
 * two such Stages match crash-loops on one run and fails its image pull on the next (CI run of
 * bb801a5: the broken-image-pull self-test passed two times in three).
 *
 * So every two Stages of one resource kind and one weight class must be exclusive by their
 * selectors alone: one requirement of the first contradicts one of the second. Proven here from
 * the selectors' text; test/sim/kube-layer.test.ts shows it on the real kwok.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';

const KWOK_DIR = join(import.meta.dirname, '..', 'sim', 'kwok');

interface Requirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

interface StageLite {
  name: string;
  file: string;
  kind: string;
  weight: number;
  requirements: Requirement[];
}

interface StageDoc {
  kind?: string;
  metadata?: { name?: string };
  spec?: {
    resourceRef?: { kind?: string };
    weight?: number;
    weightFrom?: unknown;
    selector?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: Requirement['operator']; values?: string[] }[] };
  };
}

function loadStages(): StageLite[] {
  const stages: StageLite[] = [];
  for (const file of readdirSync(KWOK_DIR).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(KWOK_DIR, file), 'utf8'))) {
      const s = doc.toJS() as StageDoc | null;
      if (s?.kind !== 'Stage') continue;
      const selector = s.spec?.selector ?? {};
      // A computed weight could put the Stage in either class; this check cannot judge it.
      if (s.spec?.weightFrom !== undefined) throw new Error(`${file}: Stage ${s.metadata?.name ?? '?'} has a weightFrom; test/sim-stages.test.ts cannot tell its weight class`);
      stages.push({
        name: s.metadata?.name ?? '?',
        file,
        kind: s.spec?.resourceRef?.kind ?? '?',
        weight: s.spec?.weight ?? 0,
        requirements: [
          // Labels apart from jq paths: `app` is not a parent of `app.kubernetes.io/name`.
          ...Object.entries(selector.matchLabels ?? {}).map(([k, v]): Requirement => ({ key: `label:${k}`, operator: 'In', values: [v] })),
          ...(selector.matchExpressions ?? []).map((e): Requirement => ({ key: e.key, operator: e.operator, values: e.values ?? [] })),
        ],
      });
    }
  }
  return stages;
}

/** A jq path of fields only (`.status.podIP`), which yields one value; `[]` marks where it yields several. */
const SIMPLE_PATH = /^(\.[A-Za-z_]\w*|\.\[\])+$/;
const isLabel = (key: string): boolean => key.startsWith('label:');

/**
 * Whether no object can meet both requirements, by kwok's rules (pkg/utils/expression/selector.go:
 * In holds when any value the query yields is listed, Exists when one is non-empty). Only what
 * holds for any query is claimed of a jq expression; the rest needs a field path or a label.
 */
function contradicts(a: Requirement, b: Requirement): boolean {
  const needsKey = (r: Requirement): boolean => r.operator === 'In' || r.operator === 'Exists';
  if (a.key === b.key) {
    // Two disjoint In lists can both hold when the query yields several values (two containers).
    if (a.operator === 'In' && b.operator === 'In') return (isLabel(a.key) || (SIMPLE_PATH.test(a.key) && !a.key.includes('[]'))) && !a.values.some((v) => b.values.includes(v));
    if (a.operator === 'In' && b.operator === 'NotIn') return a.values.every((v) => b.values.includes(v));
    if (a.operator === 'NotIn' && b.operator === 'In') return contradicts(b, a);
    return (needsKey(a) && b.operator === 'DoesNotExist') || (needsKey(b) && a.operator === 'DoesNotExist');
  }
  // `.status.containerStatuses` absent leaves nothing under `.status.containerStatuses.[]…`.
  const under = (inner: Requirement, outer: Requirement): boolean =>
    needsKey(inner) && outer.operator === 'DoesNotExist' && SIMPLE_PATH.test(inner.key) && SIMPLE_PATH.test(outer.key) && inner.key.startsWith(`${outer.key}.`);
  return under(a, b) || under(b, a);
}

/** The pairs of Stages kwok could have to draw between: same resource kind, same weight class. */
function overlaps(stages: StageLite[]): string[] {
  const found: string[] = [];
  stages.forEach((a, i) => {
    for (const b of stages.slice(i + 1)) {
      if (a.kind !== b.kind || a.weight > 0 !== b.weight > 0) continue;
      if (!a.requirements.some((ra) => b.requirements.some((rb) => contradicts(ra, rb)))) found.push(`${a.name} (${a.file}, weight ${a.weight}) and ${b.name} (${b.file}, weight ${b.weight})`);
    }
  });
  return found;
}

void describe('kwok Stages of the simulated cluster: one Stage per state, never a random draw', () => {
  const stages = loadStages();

  void it('reads the Stages of every file (pods and nodes, weighted and not)', () => {
    assert.ok(stages.filter((s) => s.kind === 'Pod' && s.weight > 0).length >= 6, stages.map((s) => s.name).join(', '));
    assert.ok(stages.some((s) => s.kind === 'Node'));
  });

  void it('no two weighted Stages, and no two unweighted ones, can match the same object', () => {
    assert.deepEqual(overlaps(stages), [], 'Stages whose selectors do not exclude each other: kwok would pick one at random; add a requirement to one that contradicts the other');
  });

  void it('the check sees an overlap: the image-pull Stage against a crash-loop Stage without its exclusion', () => {
    const strip = (s: StageLite): StageLite => ({ ...s, requirements: s.requirements.filter((r) => !r.key.includes('does-not-exist')) });
    const pair = stages.filter((s) => s.name === 'pod-image-pull-failed' || s.name === 'pod-crash-loop-started');
    assert.equal(pair.length, 2);
    const crash = pair.find((s) => s.name === 'pod-crash-loop-started');
    const pull = pair.find((s) => s.name === 'pod-image-pull-failed');
    assert.ok(crash && pull);
    assert.deepEqual(overlaps([pull, strip(crash)]).length, 1);
  });

  void it('contradictions: disjoint In, In inside NotIn, a key required against its absence or an absent parent', () => {
    const r = (key: string, operator: Requirement['operator'], ...values: string[]): Requirement => ({ key, operator, values });
    assert.equal(contradicts(r('.a', 'In', 'x'), r('.a', 'In', 'y')), true);
    assert.equal(contradicts(r('.a', 'In', 'x', 'y'), r('.a', 'In', 'y')), false);
    assert.equal(contradicts(r('.a.[].b', 'In', 'x'), r('.a.[].b', 'In', 'y')), false);
    assert.equal(contradicts(r('.a', 'In', 'true'), r('.a', 'NotIn', 'true')), true);
    assert.equal(contradicts(r('.a', 'NotIn', 'x'), r('.a', 'In', 'x', 'y')), false);
    assert.equal(contradicts(r('.a', 'Exists'), r('.a', 'DoesNotExist')), true);
    assert.equal(contradicts(r('.a.[].b', 'Exists'), r('.a', 'DoesNotExist')), true);
    assert.equal(contradicts(r('.ab', 'Exists'), r('.a', 'DoesNotExist')), false);
    assert.equal(contradicts(r('.a', 'NotIn', 'x'), r('.a', 'DoesNotExist')), false);
    // jq that is not a field path proves nothing beyond In inside NotIn and a key against its absence.
    assert.equal(contradicts(r('.a.x, .a.y', 'In', '1'), r('.a.x, .a.y', 'In', '2')), false);
    assert.equal(contradicts(r('.a.b | tostring', 'Exists'), r('.a', 'DoesNotExist')), false);
    assert.equal(contradicts(r('.a.b == null', 'In', 'true'), r('.a', 'DoesNotExist')), false);
    assert.equal(contradicts(r('[.a[] | .b] | any', 'In', 'true'), r('[.a[] | .b] | any', 'NotIn', 'true')), true);
    // Labels: one value each, and `app` is not a parent of `app.kubernetes.io/name`.
    assert.equal(contradicts(r('label:app', 'In', 'x'), r('label:app', 'In', 'y')), true);
    assert.equal(contradicts(r('label:app.kubernetes.io/name', 'In', 'x'), r('label:app', 'DoesNotExist')), false);
  });
});
