/**
 * `signoff.md`: the page whoever signs the phase off reads first. Verdict on top, one row per
 * requirement, the stack it ran against, then the tests behind each verdict with their figures.
 */
import type { Figure } from '../fixtures/core/evidence.ts';
import type { RequirementSummary, SignoffSummary, TestSummary, Verdict } from './signoff-model.ts';

const MARK: Record<Verdict, string> = { passed: '✅ passed', failed: '❌ failed', 'not run': '⚪ not run' };

/** Table cells hold test titles and error lines: keep them on one line and the table intact. */
export function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').trim() || '—';
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatFigure(f: Figure): string {
  return `${f.name}: ${f.value}${f.unit ? ` ${f.unit}` : ''}`;
}

function testCount(r: RequirementSummary): string {
  const total = r.tests.length;
  if (total === 0) return 'no tests';
  const parts: string[] = [];
  if (r.counts.passed) parts.push(`${r.counts.passed} passed`);
  if (r.counts.failed) parts.push(`${r.counts.failed} failed`);
  if (r.counts.notRun) parts.push(`${r.counts.notRun} not run`);
  if (r.counts.leftOut) parts.push(`${r.counts.leftOut} left out`);
  return `${parts.join(', ')} of ${total}`;
}

function testRow(t: TestSummary): string {
  // Only statuses that say more than the verdict: timed out, interrupted, a declared test.fail().
  const status = ['passed', 'failed', 'skipped', 'not started'].includes(t.status) ? '' : ` (${t.status})`;
  const retries = t.retries ? `, ${t.retries} retr${t.retries === 1 ? 'y' : 'ies'}` : '';
  return `| ${cell(t.title)} | ${cell(t.project)} | ${MARK[t.verdict]}${status}${retries} | ${formatDuration(t.durationMs)} | ${cell(t.figures.map(formatFigure).join('; '))} |`;
}

export function renderMarkdown(s: SignoffSummary): string {
  const lines: string[] = ['# Observability phase sign-off', ''];
  lines.push(
    s.signedOff
      ? '**SIGNED OFF**: all eight requirements passed in this run.'
      : `**NOT SIGNED OFF**: ${s.blockers.length} blocker${s.blockers.length === 1 ? '' : 's'}.`,
  );
  if (!s.signedOff) {
    lines.push('');
    for (const b of s.blockers) lines.push(`- ${b}`);
  }
  const env = s.environment;
  // So is a simulated cluster: next to the verdict, not only in the table below.
  if (env.kubernetes.simulated) {
    lines.push('', `⚠ This run ran on a **simulated cluster**: ${env.kubernetes.simulated.evidence}. Nodes and pods are played by ${env.kubernetes.simulated.simulator}, not a kubelet; each requirement below says what was simulated and what did not run live.`);
  }
  // A substitute Service is a fact about what was tested that a signer must see next to the verdict.
  for (const e of env.endpoints.filter((x) => x.substitute)) {
    lines.push('', `⚠ ${e.component} was reached through a substitute: ${e.used ?? '?'} in place of the configured ${e.configured}, which does not exist (${e.component.toUpperCase()}_SERVICE=${e.used ?? '?'} chooses it knowingly).`);
  }
  const run = s.run;
  lines.push(
    '',
    `Run${run.runId ? ` \`${run.runId}\`` : ''}: ${run.scope === 'full' ? 'full (every requirement selected)' : `partial (selected: ${run.selected.join(', ') || 'none'})`}` +
      `, Playwright status **${run.status}**, started ${run.startTime}, took ${formatDuration(run.durationMs)}.` +
      (run.command ? ` Command: \`${run.command}\`.` : ''),
    '',
    '| Requirement | Verdict | Tests | Duration | Key figures |',
    '|---|---|---|---|---|',
  );
  for (const r of s.requirements) {
    const blocked = r.blockedBy?.length ? ` (blocked by ${[...new Set(r.blockedBy.map((b) => b.project))].join(', ')})` : '';
    lines.push(
      `| **${r.id}** ${cell(r.title)} | ${MARK[r.verdict]}${blocked} | ${testCount(r)} | ${r.tests.length > r.counts.leftOut ? formatDuration(r.durationMs) : '—'} | ${cell(r.figures.map(formatFigure).join('; '))} |`,
    );
  }

  lines.push('', '## Where it ran', '', '| What | Value |', '|---|---|');
  lines.push(`| Suite commit | ${cell(env.suiteCommit)} |`);
  lines.push(`| Run | ${cell(`${env.runId ? `${env.runId}, ` : ''}${env.startTime} to ${env.endTime ?? '?'}`)} |`);
  lines.push(`| Kubernetes | ${cell(env.kubernetes.summary)} |`);
  for (const e of env.endpoints) {
    const value = e.used === undefined ? `${e.configured} (configured; not reached in this run)` : e.used === e.configured ? `${e.used}: ${e.how ?? ''}` : `${e.used} in place of ${e.configured}: ${e.how ?? ''}`;
    lines.push(`| ${cell(e.component)} | ${e.substitute ? '⚠ ' : ''}${cell(value)} |`);
  }
  lines.push('', '### Changes made to the cluster', '');
  if (env.changes.length) {
    lines.push('Left in the cluster on purpose by the phase\'s manifests (everything else the run created was deleted at its end):', '');
    for (const c of env.changes) lines.push(`- ${c.object}: ${c.why} (applied by "${c.by}")`);
  } else {
    lines.push(env.kubernetes.used ? 'None left on purpose: everything the run created is deleted at its end (see the teardown test).' : 'None: the run did not act on a cluster.');
  }
  if (env.warnings.length) {
    lines.push('', '### Configuration warnings', '');
    for (const w of env.warnings) lines.push(`- ${w}`);
  }
  if (env.diagnosticsNotGathered.length) {
    lines.push('', '### Diagnostics not gathered', '', 'For the failed tests, said once here rather than attached to each:', '');
    for (const d of env.diagnosticsNotGathered) lines.push(`- ${d.source}: ${d.state}: ${d.reason} (${d.tests} test${d.tests === 1 ? '' : 's'})`);
  }

  lines.push('', '## Stack fingerprint', '');
  if (s.fingerprint.components.length === 0) {
    lines.push('No versions were recorded (the preflight test records them as `obs-fingerprint` annotations).');
  } else {
    lines.push('| Component | Version | Recorded by |', '|---|---|---|');
    for (const c of s.fingerprint.components) lines.push(`| ${cell(c.component)} | ${cell(c.notLive ? `${c.version} (not live: ${c.notLive})` : c.version)} | ${cell(c.recordedBy)} |`);
  }
  if (s.fingerprint.missing.length) lines.push('', `Not recorded: ${s.fingerprint.missing.join(', ')}.`);
  for (const c of s.fingerprint.conflicts) lines.push('', `Conflicting versions for ${c.component}: ${c.versions.join(', ')}.`);

  if (s.otherFigures.length) {
    lines.push('', '## Other figures', '');
    for (const f of s.otherFigures) lines.push(`- ${formatFigure(f)} (${f.test})`);
  }
  if (s.unknownRequirementTags.length) {
    lines.push('', '## Unknown requirement tags', '');
    for (const u of s.unknownRequirementTags) lines.push(`- \`${u.tag}\` on ${u.test}`);
  }

  lines.push('', '## Requirements in detail');
  for (const r of s.requirements) {
    lines.push('', `### ${r.id}: ${r.title}`, '', `${MARK[r.verdict]}: ${r.reason}.`);
    if (r.simulation) {
      lines.push('', 'On the simulated cluster:');
      for (const part of r.simulation.simulated) lines.push(`- simulated: ${part}`);
      for (const part of r.simulation.notLive) lines.push(`- not live: ${part}`);
    }
    for (const b of r.blockedBy ?? []) {
      lines.push('', `Blocked by the ${b.project} project: "${b.test}" failed with:`, '', '```text', ...b.causes.map((c) => c.replace(/```/g, "'''")), '```');
    }
    if (r.tests.length) {
      lines.push('', '| Test | Project | Result | Duration | Figures |', '|---|---|---|---|---|');
      for (const t of r.tests) lines.push(testRow(t));
      const failures = r.tests.filter((t) => t.error !== undefined);
      if (failures.length) {
        lines.push('');
        for (const t of failures) lines.push(`- ${cell(t.title)} (${t.location}): ${cell(t.error ?? '')}`);
      }
    }
  }
  lines.push('', 'Evidence for every test (queries, responses, screenshots, traces) is in the HTML report next to this file; `signoff.json` holds the same summary for machines.', '');
  return lines.join('\n');
}
