/**
 * The repository stands alone: a fresh clone has everything its files point at. Three checks over
 * the files git tracks (`git ls-files`, so untracked or ignored files on this machine count for
 * nothing, as in a fresh clone):
 *
 * - every relative markdown link (`[text](path)`, `[text](path#anchor)`, `[text]: path`) in a
 *   tracked markdown file names a tracked file or directory inside the repository;
 * - every path that starts by going up a directory, in any tracked text file (markdown, TypeScript,
 *   scripts, JSON, YAML, HTML, the CI script), resolved from the file's own directory, stays inside
 *   the repository; in markdown it also names something tracked (`.js` may name its `.ts` source);
 *   the lockfile's `link:` paths are resolved from their importer, as pnpm does, and must exist;
 * - every markdown file a tracked file mentions by name (a word ending in .md, bare or after its
 *   directories) is tracked.
 *
 * - every `#anchor` of a markdown link, in the same file or another tracked markdown file, names one
 *   of that file's headings (as GitHub makes their anchors).
 *
 * URLs and mail addresses are not paths and are left alone.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The files a commit of this checkout would hold, as repo-relative POSIX paths: tracked ones still
 * on disk, and new ones git does not ignore (on a fresh clone, as in CI, that is exactly what is
 * tracked).
 */
function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return [...new Set(out.split('\0'))].filter((p) => p !== '' && existsSync(join(root, p)));
}

const TEXT_EXTENSIONS = ['.md', '.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json', '.yaml', '.yml', '.sh', '.html'];

function isScanned(path: string): boolean {
  return path.startsWith('.ci/') || TEXT_EXTENSIONS.some((ext) => path.endsWith(ext));
}

/** Tracked files and every directory that holds one ('' is the root). */
function buildIndex(files: string[]): { files: Set<string>; dirs: Set<string> } {
  const dirs = new Set<string>(['']);
  for (const f of files) {
    let d = posix.dirname(f);
    while (d !== '.' && !dirs.has(d)) {
      dirs.add(d);
      d = posix.dirname(d);
    }
  }
  return { files: new Set(files), dirs };
}

type Index = ReturnType<typeof buildIndex>;

/** `target` joined to `fromDir` and normalized; null when it leaves the repository. */
function resolveInRepo(fromDir: string, target: string): string | null {
  const joined = posix.normalize(posix.join(fromDir === '' ? '.' : fromDir, target)).replace(/(.)\/$/, '$1');
  if (joined === '..' || joined.startsWith('../') || posix.isAbsolute(joined)) return null;
  return joined === '.' ? '' : joined;
}

function exists(index: Index, path: string): boolean {
  if (index.files.has(path) || index.dirs.has(path)) return true;
  // An ES module import names the file it compiles to: `./x.js` is `./x.ts` in the sources.
  const swaps: Array<[RegExp, string[]]> = [
    [/\.js$/, ['.ts', '.tsx', '.d.ts']],
    [/\.mjs$/, ['.mts']],
    [/\.cjs$/, ['.cts']],
  ];
  for (const [ext, alternatives] of swaps) {
    if (ext.test(path) && alternatives.some((alt) => index.files.has(path.replace(ext, alt)))) return true;
  }
  return false;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Markdown with code blocks and code spans blanked (same length, so offsets keep their lines). */
function withoutCode(md: string): string {
  const blank = (s: string) => s.replace(/[^\n]/g, ' ');
  return md
    .replace(/^( {0,3})(`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:^\1?\2[^\n]*$|(?![\s\S]))/gm, blank)
    .replace(/^(?: {4}|\t)[^\n]*$/gm, (line) => blank(line))
    .replace(/(`+)[^`\n]+?\1/g, blank);
}

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/** Relative link targets of a markdown file, with their offsets. */
function markdownLinks(md: string): Array<{ target: string; offset: number }> {
  const text = withoutCode(md);
  const links: Array<{ target: string; offset: number }> = [];
  const inline = /!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
  const reference = /^ {0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s|$)/gm;
  for (const re of [inline, reference]) {
    for (const m of text.matchAll(re)) links.push({ target: m[1]!, offset: m.index! });
  }
  return links;
}

/** Paths that begin by going up (`..` then `/`, a quote, a space or the end), with their offsets. */
function upwardPaths(text: string): Array<{ path: string; offset: number }> {
  const out: Array<{ path: string; offset: number }> = [];
  const re = /(?<![\w./~$-])\.\.(?=[/'"`\s)\]]|$)(?:\/[^\s'"`()[\]<>,;*{}|\\]*)?/g;
  for (const m of text.matchAll(re)) {
    let path = m[0].replace(/[#?].*$/, '');
    // Trailing prose punctuation is not part of the path (but `..` itself is).
    while (/[.:!?]$/.test(path) && !/(^|\/)\.\.$/.test(path)) path = path.slice(0, -1);
    out.push({ path, offset: m.index! });
  }
  return out;
}

/** Markdown file names mentioned anywhere (URLs left out), with their offsets. */
function markdownMentions(text: string): Array<{ name: string; offset: number }> {
  const noUrls = text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s)'"`>]+/gi, (u) => ' '.repeat(u.length));
  const out: Array<{ name: string; offset: number }> = [];
  for (const m of noUrls.matchAll(/(?<![\w./-])((?:[\w.-]+\/)*[\w-][\w.-]*\.md)(?![\w-])/g)) {
    out.push({ name: m[1]!, offset: m.index! });
  }
  return out;
}

/**
 * The anchors of a markdown file's headings, as GitHub makes them: lower case, punctuation dropped,
 * spaces as hyphens, a repeated one numbered (`-1`, `-2`).
 */
function anchorsOf(md: string): Set<string> {
  const text = withoutCode(md.replace(/`([^`\n]+)`/g, '$1'));
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of text.matchAll(/^#{1,6} +(.+?) *#* *$/gm)) {
    const base = m[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\- _]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The lockfile's `link:` paths, each with the importer directory pnpm resolves it from. */
function lockfileLinks(text: string): Array<{ importer: string; path: string; offset: number }> {
  const out: Array<{ importer: string; path: string; offset: number }> = [];
  let inImporters = false;
  let importer = '';
  let offset = 0;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) inImporters = line.startsWith('importers:');
    const key = /^ {2}([^\s:'"][^:]*|'[^']*'):\s*$/.exec(line);
    if (inImporters && key) importer = key[1]!.replace(/^'|'$/g, '');
    const link = /\blink:([^\s'"]+)/.exec(line);
    if (inImporters && link) out.push({ importer: importer === '.' ? '' : importer, path: link[1]!, offset });
    offset += line.length + 1;
  }
  return out;
}

function problems(): string[] {
  const files = trackedFiles();
  const index = buildIndex(files);
  const found: string[] = [];
  const at = (file: string, text: string, offset: number) => `${file}:${lineOf(text, offset)}`;

  for (const file of files.filter(isScanned)) {
    const text = readFileSync(join(root, file), 'utf8');
    const dir = posix.dirname(file) === '.' ? '' : posix.dirname(file);

    if (file.endsWith('.md')) {
      for (const { target, offset } of markdownLinks(text)) {
        if (SCHEME.test(target)) continue;
        const anchor = /#(.*)$/.exec(target)?.[1];
        if (target.startsWith('#')) {
          if (!anchorsOf(text).has(anchor as string)) found.push(`${at(file, text, offset)}: no heading for ${target}`);
          continue;
        }
        let path = target.replace(/[#?].*$/, '');
        try {
          path = decodeURI(path);
        } catch {}
        const resolved = path.startsWith('/') ? resolveInRepo('', path.slice(1)) : resolveInRepo(dir, path);
        if (resolved === null) found.push(`${at(file, text, offset)}: link to ${target} leaves the repository`);
        else if (!exists(index, resolved)) found.push(`${at(file, text, offset)}: link to ${target}: no such file`);
        else if (anchor !== undefined && resolved.endsWith('.md')) {
          const there = anchorsOf(readFileSync(join(root, resolved), 'utf8'));
          if (!there.has(anchor)) found.push(`${at(file, text, offset)}: link to ${target}: no such heading there`);
        }
      }
    }

    if (file === 'pnpm-lock.yaml') {
      for (const { importer, path, offset } of lockfileLinks(text)) {
        const resolved = resolveInRepo(importer, path);
        if (resolved === null) found.push(`${at(file, text, offset)}: link:${path} leaves the repository`);
        else if (!index.dirs.has(resolved)) found.push(`${at(file, text, offset)}: link:${path}: no such directory`);
      }
    } else {
      for (const { path, offset } of upwardPaths(text)) {
        const resolved = resolveInRepo(dir, path);
        if (resolved === null) found.push(`${at(file, text, offset)}: ${path} leaves the repository`);
        // In prose a path must name something here; in code it may be data (a fixture's source text),
        // and the compiler checks imports.
        else if (file.endsWith('.md') && !exists(index, resolved))
          found.push(`${at(file, text, offset)}: ${path} (${resolved}): no such file`);
      }
    }

    for (const { name, offset } of markdownMentions(text)) {
      const resolved = resolveInRepo(dir, name);
      const known =
        (resolved !== null && index.files.has(resolved)) || files.some((f) => f === name || f.endsWith(`/${name}`));
      if (!known) found.push(`${at(file, text, offset)}: names ${name}, which the repository does not have`);
    }
  }
  return found;
}

describe('the repository', () => {
  it('has no link that points outside it or at a file that does not exist', () => {
    const found = problems();
    assert.deepEqual(found, [], `\n${found.join('\n')}`);
  });
});
