/** What a remote offers the transfers: object existence in batches, upload, and verified download. */
export interface Remote {
  readonly name: string;
  readonly url: string;
  /** How many transfers to run side by side. */
  readonly parallelism: number;
  /** Which of `ids` the remote holds (checked in batches, never one request per object for many). */
  has(ids: readonly string[]): Promise<Set<string>>;
  /** Uploads a local file as object `md5`; it becomes visible under its final name only when complete. */
  upload(source: string, md5: string, size: number, onBytes: (bytes: number) => void): Promise<void>;
  /** Writes object `md5` to the local file `destination` and returns the md5 of the bytes written. */
  download(md5: string, destination: string, onBytes: (bytes: number) => void): Promise<string>;
  /**
   * Remotes on a local filesystem: the bytes of object `md5`, read synchronously, when it is smaller
   * than `limit` bytes; undefined when it is not (take `download`). For files of a few KiB a libuv
   * round trip and a staging file per object cost more than the read itself. Not verified: the
   * caller hashes them. With `into` (at least the object's size), the bytes are read into it and
   * are valid only until the next call; else they are the caller's to keep.
   */
  readSmallSync?(md5: string, limit: number, into?: Buffer): Buffer | undefined;
  /** Remotes on a local filesystem: the folder holding `<2 hex>/<30 hex>` objects (a second thread reads it too). */
  readonly objectsRoot?: string;
  /**
   * Remotes on a local filesystem: uploads an object smaller than `limit` bytes synchronously,
   * visible only when complete, and returns its size; undefined (nothing sent) when it is larger.
   * With `into`, a staging folder for the object's `<2 hex>` folder (object-groups.ts), it is
   * written there under its final name.
   */
  uploadSmallSync?(source: string, md5: string, limit: number, into?: string): number | undefined;
  close(): void;
}

/** DVC 3's layout on a remote, the same as the cache's: files/md5/<2>/<30>. */
export function remoteKey(md5: string): string {
  return `files/md5/${md5.slice(0, 2)}/${md5.slice(2)}`;
}
