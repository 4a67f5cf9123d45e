/**
 * The AWS SDK modules the S3 remote uses, in one module. The build bundles it apart
 * (dist/aws-s3.js, ~1.3 MB) and s3.ts requires it on first use: every `mlw` command reads and
 * compiles the agent bundle at start, and most never talk to S3.
 */
export * as s3 from '@aws-sdk/client-s3';
export * as storage from '@aws-sdk/lib-storage';
