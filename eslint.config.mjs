// Lint that keeps the house standing: promises are awaited, and each floor imports only what is below it.
//   domain/        pure rules: imports only domain/, luxon and zod; no clock, no randomness, no I/O
//   workflows/     Temporal workflow code: @temporalio/workflow (and common), domain/ and its own folder
//   integrations/  clients of outside systems (ERP, holidays): domain/ and config/, nothing of ours above
//   db/            repositories (the only SQL): domain/ and config/; activities/ and api/ write no query of their own
//   config/        configuration schemas and loading: domain/ only
//   activities/    I/O for workflows: anything below, and only workflows' message definitions (*messages.ts)
//   reports/       the report definitions (issue 13), shared by the API and the weekly AR pack's activity: domain/, db/,
//                  config/ and integrations/; its SQL lives in db/reports/
//   api/           HTTP: anything below except activities/, and only workflows' message definitions
//   telemetry/     metrics, traces and logs (issue 15): packages and config/ only; everything but domain/ and workflows/ may use it
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ['error', { patterns }];
const outside = (folders, message) => ({ group: folders.flatMap((f) => [`../${f}`, `../${f}/**`, `../../${f}`, `../../${f}/**`]), message });
const workflowCode = {
  regex: String.raw`^\.\.?/(\.\./)?workflows/(?!(.*-)?messages$).*|^\.\./(\.\./)?workflows/(invoice|refuse|activity-proxies|step-actions|index|invoice-dunning|customer-contact|dispute|approval)(/|$)`,
  message: 'outside workflows/, import only the workflows\' message definitions (workflows/*messages.ts), never workflow code',
};
const nodeIo = { group: ['node:*', 'fs', 'path', 'http', 'https', 'net', 'child_process', 'os', 'crypto'], message: 'no I/O here' };

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.tools/**', '.data/**', 'test/histories/**/*.json', 'docs/**'] },
  {
    files: ['**/*.ts', '**/*.mts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            outside(['workflows', 'activities', 'api', 'db', 'config', 'integrations', 'worker', 'dev'], 'domain/ is pure: it imports only domain/, luxon and zod'),
            nodeIo,
            { regex: String.raw`^(?!\.|luxon$|zod$)`, message: 'domain/ is pure: it imports only domain/, luxon and zod' },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'domain/ reads no clock: take the time as a parameter' },
        { object: 'Math', property: 'random', message: 'domain/ draws no random numbers' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'domain/ reads no clock: take the time as a parameter' },
        { selector: "Identifier[name=/^(setTimeout|setInterval|setImmediate|fetch|process|require)$/]", message: 'domain/ has no timers, processes or I/O' },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { ...outside(['activities', 'api', 'db', 'config', 'integrations', 'worker', 'dev', 'telemetry'], 'workflows import only @temporalio/workflow, domain/ and workflows/ (activities by type only)'), allowTypeImports: true },
            nodeIo,
            { regex: String.raw`^(?!\.|@temporalio/(workflow|common)$)`, message: 'workflow code imports only @temporalio/workflow and @temporalio/common among packages' },
          ],
        },
      ],
    },
  },
  {
    files: ['integrations/**/*.ts', 'db/**/*.ts'],
    rules: { 'no-restricted-imports': restrict([outside(['workflows', 'activities', 'api', 'worker', 'dev'], 'integrations/ and db/ sit below activities and the API: they import domain/ and config/ only')]) },
  },
  {
    files: ['config/**/*.ts'],
    rules: { 'no-restricted-imports': restrict([outside(['workflows', 'activities', 'api', 'db', 'integrations', 'worker', 'dev'], 'config/ imports domain/ only')]) },
  },
  {
    files: ['reports/**/*.ts'],
    rules: { 'no-restricted-imports': restrict([outside(['workflows', 'activities', 'api', 'worker', 'dev'], 'reports/ sits below activities and the API: it imports domain/, db/, config/ and integrations/'), workflowCode]) },
  },
  {
    files: ['telemetry/**/*.ts'],
    rules: { 'no-restricted-imports': restrict([outside(['workflows', 'activities', 'api', 'db', 'integrations', 'reports', 'worker', 'dev', 'domain'], 'telemetry/ sits below everything that uses it: it imports packages and config/ only')]) },
  },
  {
    files: ['activities/**/*.ts'],
    rules: { 'no-restricted-imports': restrict([outside(['api', 'worker', 'dev'], 'activities/ do not import the API, the worker or dev tooling'), workflowCode]) },
  },
  {
    files: ['api/**/*.ts'],
    rules: { 'no-restricted-imports': restrict([outside(['activities', 'worker'], 'api/ does not import activities/ (shared code lives in integrations/, db/ or domain/)'), workflowCode]) },
  },
  {
    files: ['api/**/*.ts', 'activities/**/*.ts', 'reports/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...[
          "TaggedTemplateExpression[tag.type='Identifier'][tag.name=/^(sql|tx|db)$/]",
          "TaggedTemplateExpression[tag.type='MemberExpression'][tag.property.name=/^(sql|tx|db)$/]",
          "CallExpression[callee.property.name='unsafe']",
        ].map((selector) => ({ selector, message: 'no SQL here: queries live in db/ repositories (functions taking a Db, composed in sql.begin)' })),
      ],
    },
  },
);
