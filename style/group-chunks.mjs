// Joins wasm-split's shared chunks into fewer, larger files, and points its loader at them.
//
// Why: wasm-split puts the code that islands share into one chunk per set of islands using it,
// so a page with an island fetched 60 to 90 chunks, and brotli, compressing each file on its
// own, left them a quarter bigger than the same bytes in one file (README, "Page weight").
// A chunk only fills slots of the shared function table when it is instantiated (it imports
// the memory, the table and the stack pointer, and exports nothing), so several chunks can be
// one module: loaded once, it fills every slot its members would have.
//
// Which chunks to join: a join helps the pages that need both parts (one file, compressed
// together) and costs the pages that needed only one (they now fetch the other part too).
// Starting from one group per chunk, the join that lowers the weighted sum of the pages'
// weights most is made, until none lowers it. A page's bytes weigh double for every 10 KB the
// page weighs more, so the heaviest pages, those near the 250 KB budget, come first. Sizes
// are brotli's at a low quality, which ranks joins as the final quality would, in seconds.
//
// Usage: node style/group-chunks.mjs <pkg dir> <binaryen bin dir>
// Run after wasm-split and wasm-opt (the sizes are then those sent); optimise the groups again.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants } from "node:zlib";

const [dir, binaryen] = process.argv.slice(2);
if (!dir || !binaryen) {
  console.error("usage: node style/group-chunks.mjs <pkg dir> <binaryen bin dir>");
  process.exit(2);
}
const LOADER = join(dir, "__wasm_split.js");
const SHARED = "__wasm_split";
// The members' imports are renamed to this module (as long as SHARED, so the binary keeps its
// layout), which a small hub module provides by passing SHARED's on.
const HUB = "__chunk_hub_";
const BASE_PAGE_BYTES = 150_000;
const DOUBLING_BYTES = 10_000;

const estimate = (bytes) =>
  brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }).length;

/** The chunks and the islands ("splits") using each, as the loader lists them. */
function readLoader(source) {
  const chunks = [];
  const declared = /\/\* ([^*]+) \*\/\nconst __(chunk_\d+) = makeLoad\(/g;
  for (const [, users, name] of source.matchAll(declared)) {
    const bytes = readFileSync(join(dir, `${name}.wasm`));
    chunks.push({ names: [name], users: new Set(users.split(",").map((user) => user.trim())), bytes, size: estimate(bytes) });
  }
  return chunks;
}

/** What each island's own module weighs, the part no join changes. */
function ownSizes(users) {
  const files = readdirSync(dir);
  return Object.fromEntries(
    [...users].map((user) => {
      const file = files.find((name) => name === `split_${user}.wasm`);
      return [user, file ? estimate(readFileSync(join(dir, file))) : 0];
    }),
  );
}

function group(chunks) {
  const users = new Set(chunks.flatMap((chunk) => [...chunk.users]));
  const own = ownSizes(users);
  let groups = chunks.map((chunk, id) => ({ ...chunk, id }));
  let nextId = groups.length;
  const joined = new Map();
  const pageBytes = () => {
    const bytes = { ...own };
    for (const g of groups) for (const user of g.users) bytes[user] += g.size;
    return bytes;
  };
  for (;;) {
    const bytes = pageBytes();
    const weight = (user) => 2 ** ((bytes[user] - BASE_PAGE_BYTES) / DOUBLING_BYTES);
    let best = null;
    for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        const [a, b] = [groups[i], groups[j]];
        if (![...a.users].some((user) => b.users.has(user))) continue;
        const key = `${a.id}:${b.id}`;
        if (!joined.has(key)) joined.set(key, estimate(Buffer.concat([a.bytes, b.bytes])));
        const size = joined.get(key);
        let change = 0;
        for (const user of new Set([...a.users, ...b.users])) {
          const before = (a.users.has(user) ? a.size : 0) + (b.users.has(user) ? b.size : 0);
          change += weight(user) * (size - before);
        }
        if (change < 0 && (!best || change < best.change)) best = { a, b, size, change };
      }
    }
    if (!best) return groups;
    const { a, b, size } = best;
    const both = { names: [...a.names, ...b.names], users: new Set([...a.users, ...b.users]), bytes: Buffer.concat([a.bytes, b.bytes]), size, id: nextId++ };
    groups = groups.filter((g) => g !== a && g !== b).concat([both]);
  }
}

function readLeb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

/**
 * Renames, in place, every import of `bytes` from SHARED to HUB (the same length, so nothing
 * moves), and returns what was imported, as the text format declares it.
 */
function importFromHub(bytes) {
  const imports = [];
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const [length, body] = readLeb(bytes, at + 1);
    if (id === 2) {
      let [count, cursor] = readLeb(bytes, body);
      for (; count > 0; count--) {
        const [moduleLength, moduleAt] = readLeb(bytes, cursor);
        const [fieldLength, fieldAt] = readLeb(bytes, moduleAt + moduleLength);
        const field = bytes.toString("utf8", fieldAt, fieldAt + fieldLength);
        const [declaration, next] = importKind(bytes, fieldAt + fieldLength);
        if (bytes.toString("utf8", moduleAt, moduleAt + moduleLength) === SHARED) {
          bytes.write(HUB, moduleAt, "utf8");
          imports.push([field, declaration]);
        }
        cursor = next;
      }
      return imports;
    }
    at = body + length;
  }
  return imports;
}

/** An import's kind and type at `at`, in the text format, and where the entry ends. */
function importKind(bytes, at) {
  const limits = (cursor) => {
    const flags = bytes[cursor++];
    const [min, next] = readLeb(bytes, cursor);
    if (!(flags & 1)) return [`${min}`, next];
    const [max, end] = readLeb(bytes, next);
    return [`${min} ${max}`, end];
  };
  const kind = bytes[at++];
  if (kind === 1 && bytes[at] === 0x70) {
    const [sizes, end] = limits(at + 1);
    return [`table ${sizes} funcref`, end];
  }
  if (kind === 2) {
    const [sizes, end] = limits(at);
    return [`memory ${sizes}`, end];
  }
  if (kind === 3 && bytes[at] === 0x7f) return [bytes[at + 1] ? "global (mut i32)" : "global i32", at + 2];
  throw new Error(`an import of kind ${kind} is not one wasm-split gives a chunk`);
}

/** A module importing `imports` from SHARED and exporting each again under its name. */
function hubFor(imports) {
  const lines = [...imports].map(([field, declaration], index) => {
    const [kind, ...type] = declaration.split(" ");
    return `(import "${SHARED}" "${field}" (${kind} $i${index} ${type.join(" ")}))\n(export "${field}" (${kind} $i${index}))`;
  });
  return `(module\n${lines.join("\n")}\n)\n`;
}

const FEATURES = ["--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-mutable-globals", "--enable-sign-ext"];

function joinChunks(groupName, members) {
  const hubText = join(dir, `${groupName}.hub.wat`);
  const hub = join(dir, `${groupName}.hub.wasm`);
  const imports = new Map();
  const inputs = [hub, HUB];
  for (const member of members) {
    const path = join(dir, `${member}.wasm`);
    const bytes = readFileSync(path);
    for (const [field, declaration] of importFromHub(bytes)) imports.set(field, declaration);
    writeFileSync(path, bytes);
    inputs.push(path, member);
  }
  writeFileSync(hubText, hubFor(imports));
  execFileSync(join(binaryen, "wasm-as"), [...FEATURES, hubText, "-o", hub]);
  // wasm-merge warns once per member about wasm-split's name subsections (the names go anyway).
  const merged = spawnSync(join(binaryen, "wasm-merge"), [...FEATURES, ...inputs, "-o", join(dir, `${groupName}.wasm`)], { encoding: "utf8" });
  const said = merged.stderr.split("\n").filter((line) => line && !line.startsWith("warning: unknown name subsection"));
  if (said.length) console.error(said.join("\n"));
  if (merged.status !== 0) throw new Error(`wasm-merge failed joining ${groupName}`);
  for (const path of [hubText, hub, ...members.map((member) => join(dir, `${member}.wasm`))]) rmSync(path);
}

let loader = readFileSync(LOADER, "utf8");
const chunks = readLoader(loader);
const groups = group(chunks).filter((g) => g.names.length > 1);
const definitions = [];
groups.forEach((g, index) => {
  const name = `group_${index}`;
  joinChunks(name, g.names);
  definitions.push(`const __${name} = makeLoad(() => {\n    const src = fetch(new URL("./${name}.wasm", import.meta.url));\n    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));\n}\n, []);`);
  for (const member of g.names) {
    const declaration = new RegExp(`const __${member} = makeLoad\\(\\(\\) => \\{\\n[^]*?\\n\\}\\n, \\[\\]\\);`);
    if (!declaration.test(loader)) throw new Error(`the loader's declaration of ${member} has an unknown shape`);
    loader = loader.replace(declaration, `const __${member} = __${name};`);
  }
});
const firstChunk = loader.indexOf("/* ");
loader = `${loader.slice(0, firstChunk)}${definitions.join("\n")}\n${loader.slice(firstChunk)}`;
writeFileSync(LOADER, loader);
console.log(`${chunks.length} shared chunks joined into ${groups.length} groups and ${chunks.length - groups.reduce((n, g) => n + g.names.length, 0)} single chunks`);
