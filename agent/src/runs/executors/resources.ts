/** Resource settings in the DAG's notation, turned into what Docker's API takes. */
import { LaunchError } from '../errors';

const UNIT: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `512m`, `4g`, `1.5G`, `1024` (bytes), `8mb` → bytes. */
export function memoryBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kmgt]?)b?$/i.exec(text.trim());
  if (!match) throw new LaunchError(`memory ${JSON.stringify(text)} is not a size such as 512m or 4g`);
  const bytes = Math.floor(Number(match[1]) * UNIT[match[2]!.toLowerCase()]!);
  // Docker refuses limits under 6 MiB; say so in our words rather than the engine's.
  if (bytes < 6 * 1024 ** 2) throw new LaunchError(`memory ${text} is below Docker's minimum of 6m`);
  return bytes;
}

export function nanoCpus(cpus: number): number {
  return Math.round(cpus * 1e9);
}
