import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const OPERATIONS = join(__dirname, '..', '..', 'docs', 'operations.md');

/** The code block under `<!-- name -->` in docs/operations.md: the config the docs show, as they show it. */
export function docsBlock(name: string): string {
  const doc = readFileSync(OPERATIONS, 'utf8');
  const found = new RegExp(`<!-- ${name} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\`\\n`).exec(doc);
  if (!found) throw new Error(`docs/operations.md has no block marked <!-- ${name} -->`);
  return found[1]!;
}

/** A port nothing listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A throwaway self-signed certificate for `localhost` and 127.0.0.1, made by openssl in `dir`. */
export function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'fullchain.pem');
  const key = join(dir, 'privkey.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return { cert, key };
}

/**
 * The docs' nginx config made runnable here: the same file, with only the ports and the certificate's paths
 * changed, included from a minimal nginx.conf whose files all live in `dir`.
 */
export function nginxConfig(dir: string, ports: { upstream: number; plain: number; tls: number }, certificate: { cert: string; key: string }): string {
  const site = docsBlock('nginx config')
    .replace('server 127.0.0.1:8080;', `server 127.0.0.1:${ports.upstream};`)
    .replace('listen 80;', `listen 127.0.0.1:${ports.plain};`)
    .replace('listen 443 ssl;', `listen 127.0.0.1:${ports.tls} ssl;`)
    .replace('/etc/ssl/dualgate/fullchain.pem', certificate.cert)
    .replace('/etc/ssl/dualgate/privkey.pem', certificate.key);
  const temp = (name: string) => `${name}_temp_path ${join(dir, name)};`;
  return [
    'daemon off;',
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')};`,
    // As root, nginx's workers would run as nobody, who cannot enter this private temporary directory.
    ...(process.getuid?.() === 0 ? ['user root root;'] : []),
    'events { worker_connections 64; }',
    'http {',
    '  access_log off;',
    `  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}`,
    site,
    '}',
    '',
  ].join('\n');
}
