/**
 * The simulated cluster's network: the namespace `obs-sim`, a veth pair to the host with
 * private /30 addresses, and routes that keep node and pod addresses on this machine.
 *
 * Why a namespace: EndpointSlices reject loopback addresses, so pods (and the real processes
 * behind them) need ordinary addresses, and an address range made local inside a namespace the
 * run creates and removes touches nothing else on the machine. Inside it, `ip route add local
 * <range> dev lo` makes every address of the node and pod ranges local (the "AnyIP" route), so
 * a process can bind whichever address kwok hands a pod. On the host the same ranges are routed
 * through the veth, so the suite reaches the API server, pods and nodes directly.
 * Every step is idempotent (`replace`, existence checks), so a half-made network is completed.
 */
import { mustRun, run } from './exec.ts';
import { SIM } from './layout.ts';

const ip = (...args: string[]): string[] => ['ip', ...args];
const inNs = (...args: string[]): string[] => ['ip', '-n', SIM.netns, ...args];

export function netnsExists(): boolean {
  return run(ip('netns', 'list')).stdout.split('\n').some((l) => l.split(' ')[0] === SIM.netns);
}

function linkExists(name: string, ns?: string): boolean {
  return run(ns ? ['ip', '-n', ns, 'link', 'show', name] : ip('link', 'show', name)).code === 0;
}

/** Creates (or completes) the namespace, the veth pair, addresses and routes. */
export function ensureNetwork(): void {
  if (!netnsExists()) mustRun(ip('netns', 'add', SIM.netns));
  mustRun(inNs('link', 'set', 'lo', 'up'));
  if (!linkExists(SIM.hostIf)) {
    // A namespace-side link left without its host end (or the reverse) cannot be paired again.
    if (linkExists(SIM.nsIf, SIM.netns)) mustRun(inNs('link', 'del', SIM.nsIf));
    mustRun(ip('link', 'add', SIM.hostIf, 'type', 'veth', 'peer', 'name', SIM.nsIf, 'netns', SIM.netns));
  }
  mustRun(ip('addr', 'replace', `${SIM.hostAddress}/${SIM.linkPrefix}`, 'dev', SIM.hostIf));
  mustRun(ip('link', 'set', SIM.hostIf, 'up'));
  mustRun(inNs('addr', 'replace', `${SIM.nsAddress}/${SIM.linkPrefix}`, 'dev', SIM.nsIf));
  mustRun(inNs('link', 'set', SIM.nsIf, 'up'));
  for (const range of [SIM.nodeCidr, SIM.podCidr]) {
    mustRun(inNs('route', 'replace', 'local', range, 'dev', 'lo'));
    mustRun(ip('route', 'replace', range, 'via', SIM.nsAddress, 'dev', SIM.hostIf));
  }
}

/** The processes living in the namespace (every process the sim started runs there). */
export function netnsPids(): number[] {
  if (!netnsExists()) return [];
  return run(ip('netns', 'pids', SIM.netns))
    .stdout.split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** Removes the namespace; its end of the veth goes with it, and with it the host end and routes. */
export function removeNetwork(): void {
  if (netnsExists()) mustRun(ip('netns', 'del', SIM.netns));
  if (linkExists(SIM.hostIf)) {
    const del = run(ip('link', 'del', SIM.hostIf));
    // The host end goes with the namespace, a moment after `netns del` returns: a link that
    // vanished between the look and the delete ("Cannot find device") is done, not a failure.
    if (del.code !== 0 && linkExists(SIM.hostIf)) mustRun(ip('link', 'del', SIM.hostIf));
  }
  for (const range of [SIM.nodeCidr, SIM.podCidr]) {
    if (run(ip('route', 'show', range)).stdout.trim()) run(ip('route', 'del', range));
  }
}

/** `argv` run inside the namespace. */
export function inNetns(argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', SIM.netns, ...argv];
}
