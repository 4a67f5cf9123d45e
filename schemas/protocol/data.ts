/**
 * Datasets: DVC-compatible tracked files and folders, their status, versions (the git history of
 * their pointer files) and transfers to and from remotes. Paths are workspace-relative, '/'-separated.
 */
import { z } from 'zod';
import { defineNotification, defineRequest } from '../rpc';

const Paths = z.array(z.string().min(1)).default([]).describe('Data paths or pointer files; none means every dataset.');
const RemoteName = z.string().min(1).optional().describe("A remote of .dvc/config; default: core.remote.");
const Revision = z.string().min(1).regex(/^[^\s-][^\s]*$/, 'a git revision (no spaces, not starting with -)');

/** A tracked dataset as its pointer file records it. */
export const DatasetSummary = z.object({
  path: z.string(),
  pointerFile: z.string(),
  md5: z.string(),
  size: z.number().int().nullable(),
  nfiles: z.number().int().nullable().describe('Folders only.'),
  isDirectory: z.boolean(),
});
export type DatasetSummary = z.output<typeof DatasetSummary>;

export const FileChanges = z.object({
  added: z.array(z.string()),
  removed: z.array(z.string()),
  modified: z.array(z.string()),
});
export type FileChanges = z.output<typeof FileChanges>;

export const DatasetStatus = z.object({
  path: z.string(),
  pointerFile: z.string(),
  md5: z.string(),
  size: z.number().int().nullable(),
  nfiles: z.number().int().nullable(),
  workspace: z.enum(['clean', 'modified', 'missing']).describe('missing: the data is not in the workspace (check it out).'),
  changes: FileChanges.nullable().describe('When modified and the listing is known: relpaths inside the dataset.'),
  cache: z.enum(['complete', 'incomplete', 'unknown']).describe('unknown: the directory listing itself is not cached.'),
  missingObjects: z.number().int().nullable(),
  remote: z.string().nullable().describe('The remote compared with, when one was asked for.'),
  notPushed: z.number().int().nullable().describe('Objects the remote lacks.'),
});
export type DatasetStatus = z.output<typeof DatasetStatus>;

export const AddResult = z.object({
  path: z.string(),
  pointerFile: z.string(),
  md5: z.string(),
  size: z.number().int(),
  nfiles: z.number().int().optional(),
  hashed: z.number().int().describe('Files whose bytes were read (the rest came from the stat cache).'),
});

export const CheckoutResult = z.object({
  path: z.string(),
  md5: z.string(),
  written: z.number().int(),
  removed: z.number().int(),
  unchanged: z.number().int(),
});
export type CheckoutResult = z.output<typeof CheckoutResult>;

export const TransferResult = z.object({
  remote: z.string(),
  transferred: z.number().int().describe('Objects copied.'),
  skipped: z.number().int().describe('Objects already present at the destination.'),
  bytes: z.number().int(),
  failed: z.array(z.object({ md5: z.string(), error: z.string() })),
});
export type TransferResult = z.output<typeof TransferResult>;

export const DatasetVersion = z.object({
  commit: z.string(),
  date: z.string().describe('Author date, ISO 8601.'),
  author: z.string(),
  message: z.string(),
  md5: z.string().nullable().describe('null: the pointer was deleted in this commit.'),
  size: z.number().int().nullable(),
  nfiles: z.number().int().nullable(),
});
export type DatasetVersion = z.output<typeof DatasetVersion>;

export const VerifyResult = z.object({
  checked: z.number().int(),
  corrupt: z.array(z.object({ md5: z.string(), path: z.string() })),
  missing: z.array(z.string()),
});
export type VerifyResult = z.output<typeof VerifyResult>;

/** One row of a dataset's file browser: a file, or a folder (which holds at least one file). */
export const DatasetFileEntry = z.object({
  name: z.string(),
  relpath: z.string().describe("Inside the dataset, '/'-separated (a single-file dataset: the file's name)."),
  path: z.string().describe("Workspace-relative, '/'-separated: where checkout puts it."),
  isDirectory: z.boolean(),
  size: z.number().int().nullable().describe('Files: bytes (null when the object is not in the cache). Folders: null.'),
  md5: z.string().nullable().describe('Files only.'),
  nfiles: z.number().int().nullable().describe('Folders only: files anywhere below.'),
  workspace: z
    .enum(['clean', 'modified', 'missing', 'unknown'])
    .nullable()
    .describe(
      'Files only: the workspace file against this entry, from the stat cache (nothing is hashed); unknown when it changed since it was last hashed (mlw data status hashes it).',
    ),
});
export type DatasetFileEntry = z.output<typeof DatasetFileEntry>;

export const DatasetFiles = z.object({
  path: z.string().describe('The dataset.'),
  md5: z.string().describe("The pointer's md5 (at `rev`, when given)."),
  rev: z.string().nullable(),
  folder: z.string().describe("The folder listed, inside the dataset ('' for its top)."),
  total: z.number().int().describe('Entries in the folder; `entries` holds the first `limit` of them (folders first, then files, by code point).'),
  entries: z.array(DatasetFileEntry),
});
export type DatasetFiles = z.output<typeof DatasetFiles>;

/** `data` of the error answer of mlw/data/files, so a client can tell the cases apart. */
export const DatasetFilesErrorData = z.object({
  code: z.enum(['not-tracked', 'not-in-cache', 'no-such-folder']),
});

/** Sent by the extension: the tracked datasets (from their pointer files; nothing is hashed). */
export const listDatasets = defineRequest('mlw/data/list', {
  params: z.object({}).strict(),
  result: z.array(DatasetSummary),
});

/** Sent by the extension: workspace, cache and (with `remote` or `cloud`) remote status of datasets. */
export const datasetStatus = defineRequest('mlw/data/status', {
  params: z.object({ paths: Paths, remote: RemoteName, cloud: z.boolean().default(false).describe('Compare with the default remote.') }).strict(),
  result: z.array(DatasetStatus),
});

/** Sent by the extension: track files or folders (hash, cache, write PATH.dvc, ignore PATH in git). */
export const addDatasets = defineRequest('mlw/data/add', {
  params: z.object({ paths: z.array(z.string().min(1)).min(1), progressToken: z.string().optional() }).strict(),
  result: z.array(AddResult),
});

/** Sent by the extension: make the workspace match the pointers (at HEAD, or at `rev`) from the cache. */
export const checkoutDatasets = defineRequest('mlw/data/checkout', {
  params: z.object({ paths: Paths, rev: Revision.optional(), force: z.boolean().default(false) }).strict(),
  result: z.array(CheckoutResult),
});

/** Sent by the extension: upload the objects of datasets that the remote lacks. */
export const pushDatasets = defineRequest('mlw/data/push', {
  params: z.object({ paths: Paths, remote: RemoteName, progressToken: z.string().optional() }).strict(),
  result: TransferResult,
});

/** Sent by the extension: download missing objects (verified) into the cache, without checkout. */
export const fetchDatasets = defineRequest('mlw/data/fetch', {
  params: z.object({ paths: Paths, remote: RemoteName, rev: Revision.optional(), progressToken: z.string().optional() }).strict(),
  result: TransferResult,
});

/** Sent by the extension: fetch, then check out. */
export const pullDatasets = defineRequest('mlw/data/pull', {
  params: z
    .object({ paths: Paths, remote: RemoteName, rev: Revision.optional(), force: z.boolean().default(false), progressToken: z.string().optional() })
    .strict(),
  result: z.object({ transfer: TransferResult, checkout: z.array(CheckoutResult) }),
});

/** Sent by the extension: a dataset's versions, newest first (the git history of its pointer file). */
export const datasetVersions = defineRequest('mlw/data/versions', {
  params: z.object({ path: z.string().min(1), limit: z.number().int().positive().optional() }).strict(),
  result: z.array(DatasetVersion),
});

/**
 * Sent by the extension: one folder level of a dataset's files (from its `.dir` listing in the cache,
 * for the workspace's pointer or the one committed at `rev`), as the Datasets view expands a folder.
 */
export const datasetFiles = defineRequest('mlw/data/files', {
  params: z
    .object({
      path: z.string().min(1).describe('A dataset (data path or pointer file).'),
      folder: z.string().default('').describe("A folder inside the dataset, '/'-separated; '' for its top."),
      rev: Revision.optional(),
      limit: z.number().int().positive().max(100_000).default(1000),
    })
    .strict(),
  result: DatasetFiles,
});

/** Sent by the extension: files added, removed, modified between two versions (`to` absent: the workspace's pointer). */
export const diffDatasets = defineRequest('mlw/data/diff', {
  params: z.object({ path: z.string().min(1), from: Revision, to: Revision.optional() }).strict(),
  result: FileChanges.extend({ fromMd5: z.string().nullable(), toMd5: z.string().nullable() }),
});

/** Sent by the extension: re-hash every cache object (or those of `paths`) and report corrupt or missing ones. */
export const verifyDatasets = defineRequest('mlw/data/verify', {
  params: z.object({ paths: Paths }).strict(),
  result: VerifyResult,
});

/** Sent by the agent: pointer files or tracked data changed (after an operation or on disk). */
export const datasetsChanged = defineNotification('mlw/data/changed', {
  params: z.object({ paths: z.array(z.string()).describe('Data paths; empty means "refresh everything".') }),
});

/** Sent by the agent during add, push, fetch and pull that carried a `progressToken`. */
export const dataProgress = defineNotification('mlw/data/progress', {
  params: z.object({
    token: z.string(),
    operation: z.enum(['add', 'push', 'fetch', 'pull', 'checkout']),
    files: z.number().int(),
    totalFiles: z.number().int(),
    bytes: z.number().int(),
    totalBytes: z.number().int().nullable(),
    bytesPerSecond: z.number(),
    done: z.boolean(),
  }),
});
