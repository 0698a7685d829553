/**
 * Built-in frameworks (the JSON files beside this one) and loading any other from a path.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ThreatLensError } from '../../engine/errors.ts';
import { parseFramework, type Framework } from '../../engine/scoring/framework.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const BUILTIN_FRAMEWORKS = ['goci-2021', 'goci-2023', 'osce-threat', 'osce-threat-demo'] as const;

/** Loads a built-in framework by id, or a framework JSON file by path, and validates it. */
export async function loadFramework(idOrPath: string, knownIndicators: ReadonlySet<string>): Promise<Framework> {
  const path = (BUILTIN_FRAMEWORKS as readonly string[]).includes(idOrPath) ? join(HERE, `${idOrPath}.json`) : idOrPath;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new ThreatLensError('TL_NOT_FOUND', `framework "${idOrPath}" is neither built in (${BUILTIN_FRAMEWORKS.join(', ')}) nor a readable file`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ThreatLensError('TL_BAD_OPTION', `framework file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseFramework(document, knownIndicators);
}
