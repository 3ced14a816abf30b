import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** A clone has only the repository: every relative link in the README and docs/ must resolve inside it. */

const root = join(__dirname, '..', '..');
const files = ['README.md', 'src/simulator/README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

test.each(files)('%s links only to files in the repository', (file) => {
  const text = readFileSync(join(root, file), 'utf8');
  const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^(https?:|mailto:|#)/.test(t));
  const broken = targets.filter((t) => {
    const path = resolve(dirname(join(root, file)), t.split('#')[0]!);
    return !path.startsWith(root + '/') || !existsSync(path);
  });
  expect(broken).toEqual([]);
  expect(text).not.toMatch(/\.\.\/shared\//);
});
