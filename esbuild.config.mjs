// Bundle the compiled CLI (dist/views/main.js, from tsc) into dist/k8ops.mjs, which
// bin/k8ops.js loads, plus chunks under dist/chunks/ for what is imported dynamically.
// Resolving and linking ~400 modules of Ink, React and friends costs ~400 ms at every start;
// the bundle avoids that, and the chunks keep a headless command from compiling the console.
import { readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';
import { patchAnsiTokenize } from './esbuild.ansi-tokenize.mjs';
import { patchInkOutput } from './esbuild.ink-output.mjs';
import { patchInkText } from './esbuild.ink-text.mjs';
import { NARROW_TEXT_SOURCE } from './esbuild.narrow-text.mjs';

// Chunk names carry a content hash: drop the previous build's, which nothing loads any more.
rmSync('dist/chunks', { recursive: true, force: true });

await build({
  entryPoints: { k8ops: 'dist/views/main.js' },
  outdir: 'dist',
  // Dynamic imports (the console, the live SSH/kube path, the demo lab generator) become
  // chunks loaded when used: `k8ops certs` or `--version` do not compile Ink, React or ssh2.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22', // the oldest supported line (package.json engines)
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
  // jsonc-parser's `main` is a UMD build whose require() calls esbuild cannot follow; its
  // ESM build (`module`) bundles.
  alias: { 'jsonc-parser': './node_modules/jsonc-parser/lib/esm/main.js' },
  // React's production build: the development one costs several times more CPU per frame.
  define: { 'process.env.NODE_ENV': '"production"' },
  // CommonJS dependencies inside an ESM bundle still use require(), __dirname, __filename.
  banner: {
    js: [
      "import { createRequire as __k8opsRequire } from 'node:module';",
      "import { fileURLToPath as __k8opsPath } from 'node:url';",
      'const require = __k8opsRequire(import.meta.url);',
      'const __filename = __k8opsPath(import.meta.url);',
      "const __dirname = __k8opsPath(new URL('.', import.meta.url));",
    ].join(' '),
  },
  plugins: [
    {
      // Ink's Output: one set of caches for every frame, one shared blank cell, a text's
      // lines and an unchanged row not serialised again (esbuild.ink-output.mjs; issue 13:
      // idle CPU and memory, README Performance).
      name: 'ink-output-caches',
      setup(b) {
        b.onLoad({ filter: /[\\/]ink[\\/]build[\\/]output\.js$/ }, (args) => ({
          contents: patchInkOutput(readFileSync(args.path, 'utf8')),
          loader: 'js',
        }));
      },
    },
    {
      // Ink's Text: one transform closure per set of style props, so that an unchanged
      // nested Text does not mark its line for measuring again (esbuild.ink-text.mjs;
      // issue 13: idle CPU).
      name: 'ink-text-transform',
      setup(b) {
        b.onLoad({ filter: /[\\/]ink[\\/]build[\\/]components[\\/]Text\.js$/ }, (args) => ({
          contents: patchInkText(readFileSync(args.path, 'utf8')),
          loader: 'js',
        }));
      },
    },
    {
      // string-width and Ink's line diff: width = length for ASCII and a few one-column
      // symbols, without a grapheme segmenter (esbuild.narrow-text.mjs; issue 13).
      name: 'narrow-text',
      setup(b) {
        // The regex is defined first: Ink's module reads it at load.
        const patch = (path, from, to) => {
          const src = readFileSync(path, 'utf8');
          if (!src.includes(from)) throw new Error(`narrow-text: "${from}" not found in ${path}`);
          return { contents: `${narrow}${src.replace(from, to)}`, loader: 'js' };
        };
        const narrow = `const narrowText = new RegExp(${JSON.stringify(NARROW_TEXT_SOURCE)}, 'u');\n`;
        b.onLoad({ filter: /[\\/]node_modules[\\/]string-width[\\/]index\.js$/ }, (args) =>
          patch(
            args.path,
            'if (/^[\\u0020-\\u007E]*$/.test(string)) {',
            'if (/^[\\u0020-\\u007E]*$/.test(string) || (ambiguousIsNarrow && narrowText.test(string))) {',
          ),
        );
        b.onLoad({ filter: /[\\/]ink[\\/]build[\\/]line-update\.js$/ }, (args) =>
          patch(
            args.path,
            'const printableAscii = /^[ -~]*$/u;',
            'const printableAscii = narrowText;',
          ),
        );
      },
    },
    {
      // The ANSI tokenizer Ink cuts texts with: ASCII without a grapheme segmenter
      // (esbuild.ansi-tokenize.mjs; issue 13).
      name: 'ansi-tokenize-ascii',
      setup(b) {
        b.onLoad(
          { filter: /[\\/]@alcalzone[\\/]ansi-tokenize[\\/]build[\\/]tokenize\.js$/ },
          (args) => ({
            contents: patchAnsiTokenize(readFileSync(args.path, 'utf8')),
            loader: 'js',
          }),
        );
      },
    },
    {
      // ssh2's native crypto binding and cpu-features are optional (loaded in try/catch);
      // they are not built here, and ssh2 falls back to pure JS.
      name: 'optional-native',
      setup(b) {
        b.onResolve({ filter: /\.node$|^cpu-features$/ }, (args) => ({
          // ssh2's cipher binding by package path, so the bundle finds it wherever
          // node_modules/ssh2 has it built (relative to ssh2's own file it never resolves
          // from dist/chunks/): with it, ssh2 decrypts in C instead of one Node decipher
          // per packet (issue 13: ~25 % of `certs --json`'s CPU at 50 nodes).
          path: /[\\/]sshcrypto\.node$/.test(args.path)
            ? 'ssh2/lib/protocol/crypto/build/Release/sshcrypto.node'
            : args.path,
          external: true,
        }));
      },
    },
    {
      // Ink imports react-devtools-core only when DEV=true; it is not a dependency.
      name: 'no-devtools',
      setup(b) {
        b.onResolve({ filter: /^react-devtools-core$/ }, () => ({
          path: 'react-devtools-core',
          namespace: 'stub',
        }));
        b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
          contents: 'export default { initialize() {}, connectToDevTools() {} };',
          loader: 'js',
        }));
      },
    },
  ],
});
