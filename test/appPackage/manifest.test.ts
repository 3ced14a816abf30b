import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync, inflateSync } from 'node:zlib';
import { commands } from '../../src/commands/registry';
import { languages, type Language } from '../../src/i18n';
import { parseUtterance } from '../../src/nlu/parse';
import { appPackageDir, buildPackage, newestSchemaVersion, parseEnvFile, renderPackage, validatePackage } from '../../scripts/app-package';

/** What a provisioned environment file holds; the values are examples, the names are the real ones. */
const provisioned = {
  ...parseEnvFile(readFileSync(join(__dirname, '..', '..', 'env', '.env.dev'), 'utf8')),
  TEAMS_APP_ID: '3f1d8c2a-5b6e-4f70-8a9b-0c1d2e3f4a5b',
  BOT_ID: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
  BOT_DOMAIN: 'smtpgatedev-app.azurewebsites.net',
};

type CommandList = { scopes: string[]; commands: { title: string; description?: string }[] };
const manifestTemplate = JSON.parse(readFileSync(join(appPackageDir, 'manifest.json'), 'utf8')) as {
  manifestVersion: string; $schema: string; bots: { scopes: string[]; commandLists: CommandList[] }[];
  staticTabs: { entityId: string; name?: string; contentUrl?: string }[]; localizationInfo: { additionalLanguages: { languageTag: string; file: string }[] };
};

test('the manifest is on the newest schema version @microsoft/app-manifest bundles (1.22 or later)', () => {
  const newest = newestSchemaVersion();
  expect(manifestTemplate.manifestVersion).toBe(newest);
  expect(manifestTemplate.$schema).toBe(`https://developer.microsoft.com/json-schemas/teams/v${newest}/MicrosoftTeams.schema.json`);
  const [major, minor] = newest.split('.').map(Number) as [number, number];
  expect(major * 100 + minor).toBeGreaterThanOrEqual(122);
});

test('filled from an environment file, the manifest and its four localization files pass the bundled schema, offline', async () => {
  const rendered = renderPackage(provisioned);
  expect(Object.keys(rendered.localizations).sort()).toEqual(['es.json', 'pt.json', 'ro.json', 'zh-CN.json']);
  expect(await validatePackage(rendered)).toEqual([]);
});

test('the schema check catches a broken manifest (it is not a check that always passes)', async () => {
  const rendered = renderPackage(provisioned);
  rendered.manifest.bots = [{ botId: 'not-a-guid', scopes: ['everywhere'] }];
  delete rendered.manifest.accentColor;
  const problems = await validatePackage(rendered);
  expect(problems.join('\n')).toMatch(/accentColor/);
  expect(problems.join('\n')).toMatch(/botId/);
  expect(problems.join('\n')).toMatch(/scopes/);
});

test('the bot has personal, team and groupChat scopes, each with its own command list; the audit tab is a personal static tab', () => {
  const bot = manifestTemplate.bots[0]!;
  expect(bot.scopes.sort()).toEqual(['groupChat', 'personal', 'team']);
  expect(bot.commandLists.map((l) => l.scopes)).toEqual([['personal'], ['team'], ['groupChat']]);
  const audit = manifestTemplate.staticTabs.find((t) => t.entityId === 'audit');
  expect(audit?.contentUrl).toBe('https://${{BOT_DOMAIN}}/tab');
  // A bot with static tabs keeps its chat and about tabs only if they are declared.
  expect(manifestTemplate.staticTabs.map((t) => t.entityId)).toEqual(expect.arrayContaining(['conversations', 'about']));
  const rendered = renderPackage(provisioned).manifest as { validDomains: string[]; webApplicationInfo: { id: string; resource: string } };
  expect(rendered.validDomains).toEqual([provisioned.BOT_DOMAIN]);
  expect(rendered.webApplicationInfo).toEqual({ id: provisioned.BOT_ID, resource: `api://${provisioned.BOT_DOMAIN}/botid-${provisioned.BOT_ID}` });
});

/** The command a title means, once the user adds a name after it (Teams inserts the title, the user completes it). */
function commandOf(title: string): { id: string; language: Language } | undefined {
  const parsed = parseUtterance(title) ?? parseUtterance(`${title} bob`);
  return parsed && { id: parsed.command.id, language: parsed.language };
}

test('every command title in the manifest is one the bot understands, in every language, meaning the same command', () => {
  const tagToLanguage: Record<string, Language> = { es: 'es', pt: 'pt', 'zh-CN': 'zh-CN', ro: 'ro' };
  const rendered = renderPackage(provisioned);
  const ids = new Set(commands.map((c) => c.id));
  manifestTemplate.bots[0]!.commandLists.forEach((list, li) => {
    list.commands.forEach((command, ci) => {
      const english = commandOf(command.title);
      expect({ title: command.title, id: english?.id }).toEqual({ title: command.title, id: expect.any(String) });
      expect(ids.has(english!.id)).toBe(true);
      for (const { languageTag, file } of manifestTemplate.localizationInfo.additionalLanguages) {
        const localized = rendered.localizations[file]!;
        const title = localized[`bots[0].commandLists[${li}].commands[${ci}].title`] as string | undefined;
        const description = localized[`bots[0].commandLists[${li}].commands[${ci}].description`] as string | undefined;
        expect({ file, ci, title: typeof title, description: typeof description }).toEqual({ file, ci, title: 'string', description: 'string' });
        expect({ file, title, id: commandOf(title!)?.id }).toEqual({ file, title, id: english!.id });
        expect(languages).toContain(tagToLanguage[languageTag]);
      }
    });
  });
});

test('every localization file names the audit tab', () => {
  const rendered = renderPackage(provisioned);
  for (const [file, content] of Object.entries(rendered.localizations)) expect({ file, name: typeof content['staticTabs[0].name'] }).toEqual({ file, name: 'string' });
});

/** RGBA pixels of an 8-bit RGBA PNG (all five row filters). */
function decodeRgba(data: Buffer): { width: number; height: number; pixels: Buffer } {
  const width = data.readUInt32BE(16), height = data.readUInt32BE(20);
  expect([data[24], data[25]]).toEqual([8, 6]);
  const idat: Buffer[] = [];
  for (let at = 8; at < data.length;) {
    const len = data.readUInt32BE(at), type = data.toString('ascii', at + 4, at + 8);
    if (type === 'IDAT') idat.push(data.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4, pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= 4 ? pixels[y * stride + x - 4]! : 0, b = y > 0 ? pixels[(y - 1) * stride + x]! : 0, c = x >= 4 && y > 0 ? pixels[(y - 1) * stride + x - 4]! : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const predictor = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter]!;
      pixels[y * stride + x] = (v + predictor) & 0xff;
    }
  }
  return { width, height, pixels };
}

test('color.png is 192×192 and opaque; outline.png is 32×32, white on transparent', () => {
  const color = decodeRgba(readFileSync(join(appPackageDir, 'color.png')));
  expect([color.width, color.height]).toEqual([192, 192]);
  const outline = decodeRgba(readFileSync(join(appPackageDir, 'outline.png')));
  expect([outline.width, outline.height]).toEqual([32, 32]);
  let transparent = 0, drawn = 0;
  for (let i = 0; i < outline.pixels.length; i += 4) {
    const [r, g, b, a] = outline.pixels.subarray(i, i + 4);
    if (a === 0) { transparent++; continue; }
    drawn++;
    expect([r, g, b]).toEqual([255, 255, 255]);
  }
  expect(transparent).toBeGreaterThan(0);
  expect(drawn).toBeGreaterThan(0);
  for (let i = 3; i < color.pixels.length; i += 4) if (color.pixels[i] !== 255) throw new Error('color.png has a transparent pixel');
});

/** Entries of a zip, read from its central directory. */
function unzip(zip: Buffer): Record<string, Buffer> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const out: Record<string, Buffer> = {};
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(at + 10), size = zip.readUInt32LE(at + 20), nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30), comment = zip.readUInt16LE(at + 32), local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const body = zip.subarray(start, start + size);
    out[name] = method === 8 ? inflateRawSync(body) : body;
    at += 46 + nameLength + extra + comment;
  }
  return out;
}

describe('npm run package', () => {
  let envDir: string;
  beforeAll(() => { envDir = mkdtempSync(join(tmpdir(), 'smtp-gate-env-')); });
  afterAll(() => rmSync(envDir, { recursive: true, force: true }));

  test('builds appPackage/build/appPackage.<env>.zip with the values of env/.env.<env> substituted', async () => {
    writeFileSync(join(envDir, '.env.shiptest'), Object.entries(provisioned).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n'));
    const out = await buildPackage('shiptest', envDir);
    try {
      expect(out).toBe(join(appPackageDir, 'build', 'appPackage.shiptest.zip'));
      const entries = unzip(readFileSync(out));
      expect(Object.keys(entries).sort()).toEqual(['color.png', 'es.json', 'manifest.json', 'outline.png', 'pt.json', 'ro.json', 'zh-CN.json']);
      const manifest = entries['manifest.json']!.toString('utf8');
      expect(manifest).not.toContain('${{');
      const parsed = JSON.parse(manifest) as { id: string; bots: { botId: string }[]; name: { short: string } };
      expect(parsed.id).toBe(provisioned.TEAMS_APP_ID);
      expect(parsed.bots[0]!.botId).toBe(provisioned.BOT_ID);
      expect(parsed.name.short).toBe('SMTP Gate (dev)');
      expect(entries['color.png']!.equals(readFileSync(join(appPackageDir, 'color.png')))).toBe(true);
    } finally {
      rmSync(out, { force: true });
    }
  });

  test('refuses an environment whose provisioned values are still empty, naming them', async () => {
    writeFileSync(join(envDir, '.env.unprovisioned'), readFileSync(join(__dirname, '..', '..', 'env', '.env.dev')));
    await expect(buildPackage('unprovisioned', envDir)).rejects.toThrow(/\$\{\{TEAMS_APP_ID\}\}.*\$\{\{BOT_ID\}\}/);
  });
});
