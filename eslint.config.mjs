import tseslint from 'typescript-eslint';

/*
 * The layering of docs/architecture.md, enforced: dependencies point down only. Each folder lists the
 * import specifiers (relative to its files) it must not use, for static imports, `export … from`,
 * `import()` and `require()` alike. test/lint/layering.test.ts proves each rule fires.
 */
const SEE = 'See docs/architecture.md.';
const above = (layers) => `^\\.\\./(${layers.join('|')})(/|$)|^\\.\\.(/index)?$`;
const FRONT_ENDS = {
  regex: '^(\\.\\./)+(provider|pulumi-component|cdktf)(/|$)',
  message: `The engine and everything below it know nothing of the front ends (provider/, pulumi-component/, cdktf/): pass what they need in as data. ${SEE}`,
};
const upward = (layer, layers, why) => ({
  regex: above(layers),
  message: `${layer} imports nothing above it (${layers.map((l) => `src/${l}`).join(', ')}, src/index.ts): ${why} ${SEE}`,
});
/** Front ends see the engine and the resources through their indexes only, and vSphere not at all. */
const frontEnd = (prefix) => [
  {
    regex: `^${prefix}(engine|resources)/`,
    message: `Front ends import the engine and the resources only through their public indexes ('${prefix}engine', '${prefix}resources'): export what you need from the index (and keep it free of vSphere code). ${SEE}`,
  },
  {
    regex: `^${prefix}(vsphere|images)(/|$)`,
    message: `Front ends never talk to vSphere or the image pipeline themselves: ask the engine (src/engine) for it. ${SEE}`,
  },
];

// esquery regexes end at the first "/": spell it as \x2F inside selectors.
const selectorRegex = (regex) => regex.replaceAll('/', '\\x2F');
function layer(files, forbidden) {
  return {
    files,
    rules: {
      'no-restricted-imports': ['error', { patterns: forbidden.map(({ regex, message }) => ({ regex, message })) }],
      'no-restricted-syntax': [
        'error',
        ...forbidden.flatMap(({ regex, message }) => [
          { selector: `ImportExpression > Literal.source[value=/${selectorRegex(regex)}/]`, message },
          { selector: `CallExpression[callee.name="require"] > Literal.arguments[value=/${selectorRegex(regex)}/]`, message },
        ]),
      ],
    },
  };
}

// The files tsconfig.json compiles: the type-aware rules need its program.
const TYPED = ['src/**/*.ts', 'provider/**/*.ts', 'pulumi-component/**/*.ts', 'cdktf/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'examples/**/node_modules/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: TYPED,
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A promise nobody awaits loses its error: an unhandled rejection ends the provider process.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  layer(
    ['src/vsphere/**/*.ts'],
    [upward('src/vsphere', ['engine', 'resources', 'images', 'cli', 'sim'], 'the vim25 client knows nothing about IaC.'), FRONT_ENDS],
  ),
  layer(['src/images/**/*.ts'], [upward('src/images', ['engine', 'resources', 'cli', 'sim'], 'the image pipeline knows nothing about resources.'), FRONT_ENDS]),
  layer(['src/resources/**/*.ts'], [upward('src/resources', ['engine', 'cli', 'sim'], 'resources declare and do; the engine decides when.'), FRONT_ENDS]),
  layer(['src/engine/**/*.ts'], [upward('src/engine', ['cli', 'sim'], 'the engine serves every front end alike.'), FRONT_ENDS]),
  layer(['src/cli/**/*.ts'], [...frontEnd('\\.\\./'), FRONT_ENDS]),
  layer(['src/endpoint/**/*.ts'], [...frontEnd('\\.\\./'), FRONT_ENDS]),
  layer(['provider/**/*.ts', 'pulumi-component/**/*.ts'], frontEnd('\\.\\./src/')),
  layer(
    ['src/index.ts'],
    [
      {
        regex: '^\\./sim(/|$)',
        message: `The package's public API holds no test tools: the simulator launcher serves the tests and \`vic sim\` (src/cli), not programs. ${SEE}`,
      },
    ],
  ),
);
