/**
 * Remotes with real servers and processes: an S3-compatible server (s3rver) started here on
 * loopback, a directory remote in a temp folder, and `mlw data push` killed mid-transfer then
 * resumed. What is checked is what a team relies on: only missing objects move, every object on a
 * remote hashes to its name, and a fresh clone pulls exactly the data that was pushed.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { md5OfBytes } from '../../../agent/src/data/hashing';
import { DataService } from '../../../agent/src/data/service';
import { awkwardTree, pythonDvcHash, quietLog, tempDir, writeTree } from '../../unit/data/fixture';
import { ensureBuilt } from '../lsp/agent-process';

const repoRoot = join(__dirname, '..', '..', '..');

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

function cloneWorkspace(from: string, to: string, files: readonly string[]): DataService {
  mkdirSync(join(to, '.dvc'), { recursive: true });
  for (const file of files) cpSync(join(from, file), join(to, file));
  return new DataService({ cwd: to, log: quietLog });
}

/**
 * Every object under a directory remote, checked: its bytes hash to its name. Only `<2 hex>`
 * folders hold objects; a staging folder a killed push left (object-groups.ts) is never read.
 */
function remoteObjects(remote: string): string[] {
  const root = join(remote, 'files', 'md5');
  const ids: string[] = [];
  for (const prefix of readdirSync(root)) {
    if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
    for (const name of readdirSync(join(root, prefix))) {
      const id = prefix + name;
      const bytes = readFileSync(join(root, prefix, name));
      if (name.endsWith('.tmp')) continue;
      assert.equal(id.endsWith('.dir') ? `${md5OfBytes(bytes)}.dir` : md5OfBytes(bytes), id, `remote object ${id} is complete and correct`);
      ids.push(id);
    }
  }
  return ids;
}

void describe('S3 remote (s3rver on loopback)', () => {
  void test('push (multipart for a large file), push again moves nothing, pull into a fresh clone, a corrupt remote object is refused', async (t) => {
    const storage = tempDir(t, 'mlw-s3rver-');
    const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: storage, configureBuckets: [{ name: 'datasets' }] });
    const { port } = await server.run();
    t.after(() => server.close());

    const root = tempDir(t);
    const big = randomBytes(20 << 20);
    writeTree(join(root, 'data'), awkwardTree);
    for (let index = 0; index < 80; index++) writeTree(join(root, 'data'), { [`many/file ${index}.txt`]: `content ${index}` });
    mkdirSync(join(root, 'data', 'large'), { recursive: true });
    writeFileSync(join(root, 'data', 'large', 'weights.bin'), big);
    writeTree(root, {
      '.dvc/config': `[core]\n    remote = s3store\n['remote "s3store"']\n    url = s3://datasets/team/project\n    endpointurl = http://127.0.0.1:${port}\n    region = us-east-1\n`,
      '.dvc/config.local': `['remote "s3store"']\n    access_key_id = S3RVER\n    secret_access_key = S3RVER\n`,
    });
    const service = new DataService({ cwd: root, log: quietLog });
    const [added] = await service.add(['data']);
    assert.equal(added!.md5, pythonDvcHash(join(root, 'data')).md5);
    const objects = new Set(Object.values(pythonDvcHash(join(root, 'data')).files)).size + 1;

    const progress: number[] = [];
    const first = await service.push([], undefined, (event) => progress.push(event.bytes));
    assert.deepEqual([first.transferred, first.skipped, first.failed], [objects, 0, []]);
    assert.ok(progress.at(-1)! >= big.length, 'progress counted the bytes');
    const second = await service.push([]);
    assert.deepEqual([second.transferred, second.skipped], [0, objects]);
    assert.equal((await service.status([], undefined, true))[0]!.notPushed, 0);

    const clone = tempDir(t, 'mlw-clone-');
    const cloned = cloneWorkspace(root, clone, ['.dvc/config', '.dvc/config.local', 'data.dvc']);
    assert.equal((await cloned.status([], 's3store'))[0]!.workspace, 'missing');
    // Pulled through the built CLI, whose S3 SDK is a bundle of its own (dist/aws-s3.js, loaded on
    // first use). Not spawnSync: the S3 server runs on this process's event loop.
    ensureBuilt();
    const pulled = await promisify(execFile)(process.execPath, [join(repoRoot, 'bin', 'mlw.js'), 'data', 'pull'], { cwd: clone, encoding: 'utf8' });
    assert.match(pulled.stdout, new RegExp(`s3store: ${objects} downloaded, 0 already there`));
    assert.deepEqual(readFileSync(join(clone, 'data', 'large', 'weights.bin')), big);
    assert.equal(readFileSync(join(clone, 'data', 'emoji', '😀 smile.txt'), 'utf8'), 'astral');
    assert.equal((await cloned.status([]))[0]!.workspace, 'clean');

    // Damage one object on the server: a fresh clone must refuse it and keep it out of the cache.
    const client = new S3Client({ endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    t.after(() => client.destroy());
    const victim = md5OfBytes('content 7');
    await client.send(new PutObjectCommand({ Bucket: 'datasets', Key: `team/project/files/md5/${victim.slice(0, 2)}/${victim.slice(2)}`, Body: 'tampered' }));
    const third = tempDir(t, 'mlw-clone-');
    const thirdService = cloneWorkspace(root, third, ['.dvc/config', '.dvc/config.local', 'data.dvc']);
    const fetched = await thirdService.fetch([]);
    assert.equal(fetched.failed.length, 1);
    assert.equal(fetched.failed[0]!.md5, victim);
    assert.match(fetched.failed[0]!.error, /corrupt/);
    await assert.rejects(thirdService.pull([]), /could not be fetched.*nothing was checked out/s);
  });
});

void describe('S3 remote over TLS (s3rver with a certificate of our own)', () => {
  void test('`mlw data push` trusts the certificates NODE_EXTRA_CA_CERTS names, though `mlw` starts node without them', async (t) => {
    const certificates = tempDir(t, 'mlw-tls-');
    const key = join(certificates, 'key.pem');
    const cert = join(certificates, 'cert.pem');
    // A self-signed certificate for 127.0.0.1, trusted only where it is named.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const storage = tempDir(t, 'mlw-s3rver-');
    const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: storage, configureBuckets: [{ name: 'datasets' }], key: readFileSync(key), cert: readFileSync(cert) });
    const { port } = await server.run();
    t.after(() => server.close());
    const root = tempDir(t);
    writeTree(join(root, 'data'), { 'a.txt': 'over TLS', 'b/c.txt': 'and verified' });
    writeTree(root, {
      '.dvc/config': `[core]\n    remote = tls\n['remote "tls"']\n    url = s3://datasets/tls\n    endpointurl = https://127.0.0.1:${port}\n    region = us-east-1\n`,
      '.dvc/config.local': `['remote "tls"']\n    access_key_id = S3RVER\n    secret_access_key = S3RVER\n`,
    });
    await new DataService({ cwd: root, log: quietLog }).add(['data']);
    ensureBuilt();
    // Run as users run `mlw` (its sh line defers the variable), not as `node bin/mlw.js`.
    // Not execFileSync: the S3 server runs on this process's event loop.
    const mlw = (env: NodeJS.ProcessEnv) => promisify(execFile)(join(repoRoot, 'bin', 'mlw.js'), ['data', 'push'], { cwd: root, encoding: 'utf8', env });
    const { NODE_EXTRA_CA_CERTS: _ignored, ...withoutExtra } = process.env;
    await assert.rejects(mlw(withoutExtra), /certificate/, 'without the variable the server is not trusted');
    const pushed = await mlw({ ...withoutExtra, NODE_EXTRA_CA_CERTS: cert });
    assert.match(pushed.stdout, /tls: 3 uploaded/);
  });
});

void describe('directory remote', () => {
  void test('a push killed mid-transfer leaves only complete objects; running it again sends only the rest', async (t) => {
    const root = tempDir(t);
    const remote = join(tempDir(t, 'mlw-remote-'), 'store');
    const files: Record<string, string> = {};
    for (let index = 0; index < 4000; index++) files[`part ${index % 40}/row-${index}.txt`] = `${index}:${'x'.repeat(index % 2000)}`;
    writeTree(join(root, 'data'), files);
    writeTree(root, { '.dvc/config': `[core]\n    remote = local\n['remote "local"']\n    url = ${remote}\n` });
    const service = new DataService({ cwd: root, log: quietLog });
    await service.add(['data']);
    const total = 4000 + 1;

    const child = spawn(process.execPath, ['--import', pathToFileURL(require.resolve('tsx')).href, join(repoRoot, 'agent', 'src', 'main.ts'), 'data', 'push'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const killedAfter = await new Promise<number>((resolve, reject) => {
      let buffered = '';
      child.stderr.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const match = /push: ([1-9]\d*)\/(\d+) files/.exec(buffered);
        if (match && Number(match[1]) < Number(match[2])) {
          child.kill('SIGKILL');
          resolve(Number(match[1]));
        }
      });
      child.on('exit', (code) => reject(new Error(`push ended (exit ${code}) before it could be killed mid-transfer:\n${buffered}`)));
    });
    await new Promise((resolve) => child.once('close', resolve));
    const before = remoteObjects(remote);
    // Objects counted in folders still being staged are not on the remote yet: one folder's worth
    // per thread (4,000 objects in 256 folders) may be sent again.
    assert.ok(before.length >= killedAfter - 2 * 40 && before.length < total, `${before.length} objects on the remote after the kill (${killedAfter} reported)`);
    const staging = readdirSync(join(remote, 'files', 'md5')).filter((name) => !/^[0-9a-f]{2}$/.test(name));
    assert.ok(staging.length <= 2, `at most a staging folder per thread is left: ${staging.join(', ')}`);

    const resumed = await service.push([]);
    assert.deepEqual(resumed.failed, []);
    assert.equal(resumed.transferred + resumed.skipped, total);
    assert.equal(resumed.skipped, before.length, 'what the killed push completed is not sent again');
    assert.equal(remoteObjects(remote).length, total);

    const clone = tempDir(t, 'mlw-clone-');
    const cloned = cloneWorkspace(root, clone, ['.dvc/config', 'data.dvc']);
    await cloned.pull([]);
    assert.equal(pythonDvcHash(join(clone, 'data')).md5, pythonDvcHash(join(root, 'data')).md5);
  });
});
