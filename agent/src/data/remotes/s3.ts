/**
 * An S3 remote (`s3://bucket/prefix`), configured as DVC reads it: `endpointurl` (an S3-compatible
 * server; path-style addressing then), `region`, `profile`, and `access_key_id` /
 * `secret_access_key` / `session_token` (usually in .dvc/config.local); otherwise the AWS SDK's
 * default chain (environment, ~/.aws). Small objects are one PutObject carrying Content-MD5 (the
 * server rejects a damaged body); large ones a multipart upload, which S3 shows under its key only
 * once completed. So a bucket never holds a truncated object.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import type * as Https from 'node:https';
import type * as Tls from 'node:tls';
import type * as SdkModules from './s3-sdk';
import { UserError } from '../../errors';
import type { RemoteConfig } from '../config';
import { isObjectId } from '../cache';
import { mapLimit } from '../concurrency';
import { remoteKey, type Remote } from './types';

/** Above this size an upload is multipart (DVC's s3fs uses a similar threshold). */
const MULTIPART_THRESHOLD = 16 << 20;
const PART_SIZE = 16 << 20;
/** Below this many objects, existence is asked per object (HEAD); above, by listing prefixes. */
const HEAD_LIMIT = 64;

let sdk: typeof SdkModules | undefined;
function loadSdk(): typeof SdkModules {
  // Loaded on first use: most commands never talk to S3, and the SDK is large (its own bundle).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sdk ??= require('./s3-sdk') as typeof SdkModules;
  return sdk;
}

/**
 * The certificates NODE_EXTRA_CA_CERTS names, given to this client's connections explicitly: `mlw`
 * starts node without them (bin/mlw.js: parsing them cost every command ~40 ms), so node's default
 * store lacks them. Node's own roots come too, as an explicit list replaces the default. A file that
 * cannot be read is skipped with a warning, as node itself does.
 */
function withExtraCaCertificates(): { requestHandler?: { httpsAgent: Https.Agent } } {
  const file = process.env['NODE_EXTRA_CA_CERTS'];
  if (!file) return {};
  let extra: string;
  try {
    extra = readFileSync(file, 'utf8');
  } catch (error) {
    process.emitWarning(`Ignoring extra certs from \`${file}\` (NODE_EXTRA_CA_CERTS), load failed: ${(error as Error).message}`);
    return {};
  }
  // Required here, not imported: the https module is only worth loading for an S3 remote.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Agent } = require('node:https') as typeof Https;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { rootCertificates } = require('node:tls') as typeof Tls;
  return { requestHandler: { httpsAgent: new Agent({ keepAlive: true, ca: [...rootCertificates, extra] }) } };
}

export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match) throw new UserError(`${url}: not an s3://bucket/prefix URL`);
  return { bucket: match[1]!, prefix: match[2]!.replace(/\/+$/, '') };
}

export class S3Remote implements Remote {
  readonly parallelism = 16;
  private readonly client: SdkModules.s3.S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(readonly config: RemoteConfig) {
    const { s3 } = loadSdk();
    ({ bucket: this.bucket, prefix: this.prefix } = parseS3Url(config.url));
    const options = config.options;
    const accessKeyId = options['access_key_id'];
    const secretAccessKey = options['secret_access_key'];
    this.client = new s3.S3Client({
      region: options['region'] ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
      ...(options['endpointurl'] ? { endpoint: options['endpointurl'], forcePathStyle: true } : {}),
      ...(options['profile'] ? { profile: options['profile'] } : {}),
      ...(accessKeyId && secretAccessKey
        ? { credentials: { accessKeyId, secretAccessKey, ...(options['session_token'] ? { sessionToken: options['session_token'] } : {}) } }
        : {}),
      // We verify every download ourselves (md5 of the bytes equals the name).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...withExtraCaCertificates(),
    });
  }

  get name(): string {
    return this.config.name;
  }

  get url(): string {
    return this.config.url;
  }

  private key(md5: string): string {
    return this.prefix ? `${this.prefix}/${remoteKey(md5)}` : remoteKey(md5);
  }

  async has(ids: readonly string[]): Promise<Set<string>> {
    const { s3 } = loadSdk();
    const found = new Set<string>();
    if (ids.length <= HEAD_LIMIT) {
      await mapLimit(ids, this.parallelism, async (id) => {
        try {
          await this.client.send(new s3.HeadObjectCommand({ Bucket: this.bucket, Key: this.key(id) }));
          found.add(id);
        } catch (error) {
          if (!isNotFound(error)) throw describe(error, this.config.url);
        }
      });
      return found;
    }
    const wanted = new Set(ids);
    const prefixes = [...new Set(ids.map((id) => id.slice(0, 2)))];
    await mapLimit(prefixes, this.parallelism, async (two) => {
      const listPrefix = `${this.prefix ? `${this.prefix}/` : ''}files/md5/${two}/`;
      let token: string | undefined;
      do {
        const page = await this.client
          .send(new s3.ListObjectsV2Command({ Bucket: this.bucket, Prefix: listPrefix, ...(token ? { ContinuationToken: token } : {}) }))
          .catch((error: unknown) => {
            throw describe(error, this.config.url);
          });
        for (const object of page.Contents ?? []) {
          const id = two + (object.Key ?? '').slice(listPrefix.length);
          if (isObjectId(id) && wanted.has(id)) found.add(id);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    });
    return found;
  }

  async upload(source: string, md5: string, size: number, onBytes: (bytes: number) => void): Promise<void> {
    const { s3, storage } = loadSdk();
    try {
      if (size < MULTIPART_THRESHOLD) {
        const body = await readFile(source);
        const contentMd5 = createHash('md5').update(body).digest('base64');
        await this.client.send(new s3.PutObjectCommand({ Bucket: this.bucket, Key: this.key(md5), Body: body, ContentMD5: contentMd5 }));
        onBytes(size);
        return;
      }
      let reported = 0;
      const upload = new storage.Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: this.key(md5), Body: createReadStream(source, { highWaterMark: 1 << 20 }) },
        partSize: PART_SIZE,
        queueSize: 4,
        leavePartsOnError: false,
      });
      upload.on('httpUploadProgress', (progress) => {
        const loaded = progress.loaded ?? 0;
        if (loaded > reported) {
          onBytes(loaded - reported);
          reported = loaded;
        }
      });
      await upload.done();
      if (size > reported) onBytes(size - reported);
    } catch (error) {
      throw describe(error, this.config.url);
    }
  }

  async download(md5: string, destination: string, onBytes: (bytes: number) => void): Promise<string> {
    const { s3 } = loadSdk();
    let body: Readable;
    try {
      const response = await this.client.send(new s3.GetObjectCommand({ Bucket: this.bucket, Key: this.key(md5) }));
      body = response.Body as Readable;
    } catch (error) {
      throw describe(error, this.config.url);
    }
    const hash = createHash('md5');
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        onBytes(chunk.length);
        callback(null, chunk);
      },
    });
    await pipeline(body, tap, createWriteStream(destination));
    return hash.digest('hex');
  }

  close(): void {
    this.client.destroy();
  }
}

function isNotFound(error: unknown): boolean {
  const candidate = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return candidate.name === 'NotFound' || candidate.name === 'NoSuchKey' || candidate.$metadata?.httpStatusCode === 404;
}

function describe(error: unknown, url: string): Error {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new UserError(`remote ${url}: ${message}`);
}
