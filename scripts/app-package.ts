import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { ManifestUtil } from '@microsoft/app-manifest';

/**
 * The Teams app package: appPackage/manifest.json and its localization files with `${{NAME}}`
 * placeholders filled from env/.env.<name> (the Microsoft 365 Agents Toolkit's convention),
 * validated offline against the schema @microsoft/app-manifest bundles, zipped with the icons.
 *
 *   npm run package -- <env name>     (default: dev) → appPackage/build/appPackage.<name>.zip
 */

export const root = resolve(__dirname, '..');
export const appPackageDir = join(root, 'appPackage');
const schemasDir = join(root, 'node_modules', '@microsoft', 'app-manifest', 'build', 'json-schemas', 'teams');

/** The newest released schema version bundled (vDevPreview is not a release). */
export function newestSchemaVersion(): string {
  const versions = readdirSync(schemasDir).filter((d) => /^v\d+\.\d+$/.test(d)).map((d) => d.slice(1));
  versions.sort((a, b) => {
    const [a1, a2] = a.split('.').map(Number) as [number, number];
    const [b1, b2] = b.split('.').map(Number) as [number, number];
    return a1 - b1 || a2 - b2;
  });
  return versions[versions.length - 1]!;
}

export function bundledSchema(version: string, kind: 'MicrosoftTeams' | 'MicrosoftTeams.Localization'): Record<string, unknown> {
  const schema = JSON.parse(readFileSync(join(schemasDir, `v${version}`, `${kind}.schema.json`), 'utf8')) as Record<string, unknown>;
  // The localization schema's activityTypes patterns end `\b]\.`: a lone `]`, which Ajv's Unicode
  // regular expressions reject. Escaped, the pattern means what Microsoft meant.
  const patterns = schema.patternProperties as Record<string, unknown> | undefined;
  if (patterns) {
    schema.patternProperties = Object.fromEntries(Object.entries(patterns).map(([pattern, rule]) => [pattern.replaceAll('\\b]', '\\b\\]'), rule]));
  }
  return schema;
}

/** KEY=VALUE lines; # comments and blank lines ignored; no quoting rules beyond stripping one pair of quotes. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trimStart().startsWith('#')) continue;
    out[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  }
  return out;
}

/** env/.env.<name>, then env/.env.<name>.user (secrets, not committed) on top. */
export function loadEnvironment(name: string, envDir = join(root, 'env')): Record<string, string> {
  const file = join(envDir, `.env.${name}`);
  if (!existsSync(file)) throw new Error(`No environment file ${file}: create it from env/.env.dev.`);
  const values = parseEnvFile(readFileSync(file, 'utf8'));
  const user = `${file}.user`;
  if (existsSync(user)) Object.assign(values, parseEnvFile(readFileSync(user, 'utf8')));
  return values;
}

/** Replaces every `${{NAME}}`; names missing or empty are an error listing them all. */
export function substitute(text: string, values: Record<string, string>, file: string): string {
  const missing = new Set<string>();
  const out = text.replace(/\$\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_m, name: string) => {
    const value = values[name];
    // Only a suffix may be empty (production has none); anything else empty was never provisioned.
    if (value === undefined || (value === '' && !name.endsWith('_SUFFIX'))) { missing.add(name); return ''; }
    // JSON files: the value goes inside a JSON string.
    return JSON.stringify(value).slice(1, -1);
  });
  if (missing.size > 0) throw new Error(`${file}: no value for ${[...missing].map((n) => `\${{${n}}}`).join(', ')} in the environment file`);
  return out;
}

export interface RenderedPackage {
  manifest: Record<string, unknown>;
  /** file name → parsed localization file */
  localizations: Record<string, Record<string, unknown>>;
  files: { name: string; data: Buffer }[];
}

/** The package's files with placeholders filled. */
export function renderPackage(values: Record<string, string>, dir = appPackageDir): RenderedPackage {
  const manifestText = substitute(readFileSync(join(dir, 'manifest.json'), 'utf8'), values, 'manifest.json');
  const manifest = JSON.parse(manifestText) as Record<string, unknown>;
  const files: RenderedPackage['files'] = [{ name: 'manifest.json', data: Buffer.from(manifestText) }];
  const icons = manifest.icons as { color: string; outline: string };
  for (const icon of [icons.color, icons.outline]) files.push({ name: icon, data: readFileSync(join(dir, icon)) });
  const localizations: RenderedPackage['localizations'] = {};
  const info = manifest.localizationInfo as { additionalLanguages?: { file: string }[] } | undefined;
  for (const { file } of info?.additionalLanguages ?? []) {
    const text = substitute(readFileSync(join(dir, file), 'utf8'), values, file);
    localizations[file] = JSON.parse(text) as Record<string, unknown>;
    files.push({ name: file, data: Buffer.from(text) });
  }
  return { manifest, localizations, files };
}

/** Width and height from a PNG's IHDR, or undefined if it is not a PNG. */
export function pngSize(data: Buffer): { width: number; height: number; colorType: number } | undefined {
  if (data.length < 33 || data.readUInt32BE(0) !== 0x89504e47 || data.toString('ascii', 12, 16) !== 'IHDR') return undefined;
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20), colorType: data[25]! };
}

/** Every problem with the rendered package: schema errors (bundled schema, offline), icons, localization. */
export async function validatePackage(rendered: RenderedPackage): Promise<string[]> {
  const version = String(rendered.manifest.manifestVersion);
  const problems = (await ManifestUtil.validateManifestAgainstSchema(rendered.manifest as never, bundledSchema(version, 'MicrosoftTeams') as never)).map((e) => `manifest.json: ${e}`);
  const localizationSchema = bundledSchema(version, 'MicrosoftTeams.Localization');
  for (const [file, content] of Object.entries(rendered.localizations)) {
    problems.push(...(await ManifestUtil.validateManifestAgainstSchema(content as never, localizationSchema as never)).map((e) => `${file}: ${e}`));
  }
  const icons = rendered.manifest.icons as { color: string; outline: string };
  const sizeOf = (name: string) => pngSize(rendered.files.find((f) => f.name === name)!.data);
  const color = sizeOf(icons.color);
  const outline = sizeOf(icons.outline);
  if (!color || color.width !== 192 || color.height !== 192) problems.push(`${icons.color}: must be a 192×192 PNG`);
  if (!outline || outline.width !== 32 || outline.height !== 32 || outline.colorType !== 6) problems.push(`${icons.outline}: must be a 32×32 PNG with transparency`);
  return problems;
}

/** A zip (deflate) of the files, flat, as Teams wants the app package. */
export function zip(files: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const name = Buffer.from(file.name, 'utf8');
    const compressed = deflateRawSync(file.data, { level: 9 });
    const crc = crc32(file.data);
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0); header.writeUInt16LE(20, 4); header.writeUInt16LE(0x0800, 6); header.writeUInt16LE(8, 8);
    header.writeUInt16LE(0, 10); header.writeUInt16LE(0x21, 12); // 1980-01-01: the same bytes every build
    header.writeUInt32LE(crc, 14); header.writeUInt32LE(compressed.length, 18); header.writeUInt32LE(file.data.length, 22);
    header.writeUInt16LE(name.length, 26); header.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6); central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10); central.writeUInt16LE(0, 12); central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16); central.writeUInt32LE(compressed.length, 20); central.writeUInt32LE(file.data.length, 24);
    central.writeUInt16LE(name.length, 28); central.writeUInt32LE(offset, 42);
    locals.push(header, name, compressed);
    centrals.push(central, name);
    offset += header.length + name.length + compressed.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(files.length, 8); end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(centralSize, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

/** `npm run package -- <env>`: render, validate (any problem stops it), zip. */
export async function buildPackage(envName: string, envDir?: string): Promise<string> {
  const rendered = renderPackage(loadEnvironment(envName, envDir));
  const problems = await validatePackage(rendered);
  if (problems.length > 0) throw new Error(`The app package is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  const out = join(appPackageDir, 'build', `appPackage.${envName}.zip`);
  mkdirSync(join(appPackageDir, 'build'), { recursive: true });
  writeFileSync(out, zip(rendered.files));
  return out;
}

if (require.main === module) {
  const envName = process.argv[2] ?? process.env.TEAMSFX_ENV ?? 'dev';
  buildPackage(envName).then(
    (out) => process.stdout.write(`Wrote ${out}\n`),
    (error: unknown) => { process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`); process.exit(1); },
  );
}
