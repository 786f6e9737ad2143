/**
 * The nightly's stand-in for production's TLS front door (OBS-07): production reaches Grafana
 * over HTTPS through an external proxy, so the nightly puts one in front of the k3d cluster's
 * Grafana too. A CA made for this machine signs a certificate for `localhost`; Caddy on the
 * host network serves https://localhost:8443 and redirects http://localhost to it.
 *
 * The suite then runs with GRAFANA_URL=https://localhost:8443 and CA_FILE / NODE_EXTRA_CA_CERTS
 * pointing at the CA; Chromium trusts it through the user's NSS database (~/.pki/nssdb), which is
 * why this is opt-in (`--tls-front-door`): it changes the machine, fine on a CI runner.
 */
import { join } from 'node:path';
import { CLUSTER } from './charts.ts';
import type { Step } from './cluster-plan.ts';

export const FRONT_DOOR = {
  url: 'https://localhost:8443',
  container: 'obs-grafana-front-door',
  image: 'caddy:2.10.2',
  /** Relative to the repository root; .cache/ is git-ignored. */
  tlsDir: '.cache/tls',
  caFile: '.cache/tls/ca.pem',
  nssNickname: 'obs-acceptance nightly CA',
  caddyfile: 'scripts/k3d/Caddyfile',
  service: 'manifests/kube-prometheus-stack/grafana-nodeport.yaml',
} as const;

/** The CA outlives many nightly certificates; each certificate is fresh, so days left are the same every night. */
const CA_DAYS = '365';
const DAYS = '30';

export function frontDoorSteps(root: string, home: string): Step[] {
  const dir = FRONT_DOOR.tlsDir;
  const file = (name: string) => `${dir}/${name}`;
  const nssdb = `sql:${join(home, '.pki/nssdb')}`;
  const noCa = { argv: ['test', '-s', FRONT_DOOR.caFile], when: 'fails' as const };
  const kubectl = (...args: string[]) => ['kubectl', '--context', CLUSTER.context, ...args];
  return [
    { title: 'Grafana NodePort for the front door', argv: kubectl('apply', '--filename', FRONT_DOOR.service) },
    { title: 'Folder for the front door certificates', argv: ['mkdir', '-p', dir] },
    {
      title: 'A CA for this machine (kept between runs, so a trusted CA is not replaced)',
      argv: [
        'openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', CA_DAYS,
        '-keyout', file('ca.key'), '-out', FRONT_DOOR.caFile,
        '-subj', '/CN=obs-acceptance nightly CA',
        '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      ],
      only: noCa,
    },
    {
      title: 'Certificate request for localhost',
      argv: [
        'openssl', 'req', '-newkey', 'rsa:2048', '-nodes',
        '-keyout', file('grafana.key'), '-out', file('grafana.csr'),
        '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-addext', 'extendedKeyUsage=serverAuth',
      ],
    },
    {
      // Signed on every run: the certificate's days left (OBS-07) start afresh.
      title: 'The CA signs the localhost certificate',
      argv: [
        'openssl', 'x509', '-req', '-in', file('grafana.csr'), '-days', DAYS,
        '-CA', FRONT_DOOR.caFile, '-CAkey', file('ca.key'), '-CAcreateserial',
        '-copy_extensions', 'copyall', '-out', file('grafana.pem'),
      ],
    },
    // Caddy runs as root in its container; the key must be readable there, and nowhere else matters on a runner.
    { title: 'Caddy can read the key', argv: ['chmod', '0644', file('grafana.key')] },
    {
      title: 'Remove the previous front door',
      argv: ['docker', 'rm', '--force', FRONT_DOOR.container],
      only: { argv: ['docker', 'container', 'inspect', FRONT_DOOR.container], when: 'succeeds' },
    },
    {
      title: `Start the front door ${FRONT_DOOR.url} (Caddy)`,
      argv: [
        'docker', 'run', '--detach', '--name', FRONT_DOOR.container, '--network', 'host',
        '--volume', `${join(root, dir)}:/certs:ro`,
        '--volume', `${join(root, FRONT_DOOR.caddyfile)}:/etc/caddy/Caddyfile:ro`,
        FRONT_DOOR.image,
      ],
    },
    {
      title: 'Grafana answers through the front door',
      // curl's own retry is the poll: up to 60 attempts a second apart.
      argv: ['curl', '--silent', '--show-error', '--fail', '--output', '/dev/null', '--retry', '60', '--retry-delay', '1', '--retry-all-errors', '--cacert', FRONT_DOOR.caFile, `${FRONT_DOOR.url}/api/health`],
    },
    { title: "Folder of Chromium's NSS database", argv: ['mkdir', '-p', join(home, '.pki/nssdb')] },
    {
      title: "Chromium's NSS database exists",
      argv: ['certutil', '-d', nssdb, '-N', '--empty-password'],
      only: { argv: ['certutil', '-d', nssdb, '-L'], when: 'fails' },
    },
    {
      title: 'Forget an older copy of the CA',
      argv: ['certutil', '-d', nssdb, '-D', '-n', FRONT_DOOR.nssNickname],
      only: { argv: ['certutil', '-d', nssdb, '-L', '-n', FRONT_DOOR.nssNickname], when: 'succeeds' },
    },
    { title: 'Chromium trusts the CA', argv: ['certutil', '-d', nssdb, '-A', '-t', 'C,,', '-n', FRONT_DOOR.nssNickname, '-i', FRONT_DOOR.caFile] },
  ];
}

export function frontDoorDownSteps(): Step[] {
  return [
    {
      title: 'Remove the TLS front door',
      argv: ['docker', 'rm', '--force', FRONT_DOOR.container],
      only: { argv: ['docker', 'container', 'inspect', FRONT_DOOR.container], when: 'succeeds' },
    },
  ];
}
