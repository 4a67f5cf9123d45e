/** Writes schemas/dag.schema.json from the zod schema. `npm run gen:schema`; a test fails when it is stale. */
import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { dagJsonSchema } from './dag';

export const DAG_SCHEMA_PATH = join(__dirname, 'dag.schema.json');

export function renderDagJsonSchema(): string {
  return `${JSON.stringify(dagJsonSchema(), null, 2)}\n`;
}

if (require.main === module) {
  const temp = `${DAG_SCHEMA_PATH}.tmp`;
  writeFileSync(temp, renderDagJsonSchema());
  renameSync(temp, DAG_SCHEMA_PATH);
  process.stderr.write(`wrote ${DAG_SCHEMA_PATH}\n`);
}
