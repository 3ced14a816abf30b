import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The modules of src/ import one way only (docs/architecture.md): no file imports itself back
 * through others, and no directory imports one that imports it back. A failure lists the imports
 * between the directories of the circle.
 */

const src = join(__dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : /\.ts$/.test(entry.name) ? [path] : [];
  });
}

function resolveImport(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier);
  return [`${base}.ts`, join(base, 'index.ts'), base].find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
}

const importPattern = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const imports = new Map<string, string[]>(sourceFiles(src).map((file) => {
  const text = readFileSync(file, 'utf8');
  const targets = [...text.matchAll(importPattern)].map((m) => resolveImport(file, m[1] ?? m[2]!)).filter((t): t is string => t !== undefined && t !== file);
  return [file, [...new Set(targets)]];
}));

/** A file's area: its directory under src/, or the file itself at the top. */
const areaOf = (file: string) => relative(src, file).split(sep)[0]!.replace(/\.ts$/, '');

/** Groups of nodes that reach each other (Tarjan), those with more than one member. */
function circles(edges: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    for (const to of edges.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (stack.includes(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      for (let member = stack.pop()!; ; member = stack.pop()!) {
        group.push(member);
        if (member === node) break;
      }
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return found;
}

test('no file of src/ imports itself back through other files', () => {
  const edges = new Map([...imports].map(([file, targets]) => [file, new Set(targets)]));
  expect(circles(edges).map((group) => group.map((file) => relative(src, file)))).toEqual([]);
});

test('no directory of src/ imports one that imports it back', () => {
  const edges = new Map<string, Set<string>>();
  const behind = new Map<string, string[]>();
  for (const [file, targets] of imports) {
    for (const target of targets) {
      const [from, to] = [areaOf(file), areaOf(target)];
      if (from === to) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
      behind.set(`${from} → ${to}`, [...(behind.get(`${from} → ${to}`) ?? []), `${relative(src, file)} imports ${relative(src, target)}`]);
    }
  }
  const closing = circles(edges).map((group) => [...behind].filter(([arrow]) => group.some((a) => group.some((b) => arrow === `${a} → ${b}`))).flatMap(([, why]) => why));
  expect(closing).toEqual([]);
  // The check sees the layers it guards: the core imports the request services, which import the register.
  expect(edges.get('core')).toContain('requests');
  expect(edges.get('requests')).toContain('exceptions');
});
