import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPublicPath } from '../../api/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The OpenAPI document says every answer a route may give (api/openapi.ts), checked here without a fuzzer;
 * test/e2e/fuzz.e2e.test.ts holds the API to it. Before, no route documented 401, many no 400 or 403, a 204
 * was documented as JSON, and the preview's body held a JSON Schema 2020-12 exclusiveMinimum (a number),
 * which OpenAPI 3.0 does not allow and schemathesis refused.
 */
let t: TestApp;
let doc: { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: unknown }> }>> };

beforeAll(async () => {
  t = await startTestApp(`openapi-${randomUUID().slice(0, 8)}`);
  doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
});
afterAll(async () => {
  await t?.close();
});

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, responses: op.responses })));
/** `/invoices/{invoiceNumber}` as the router writes it: `/invoices/:invoiceNumber`. */
const routePattern = (path: string) => path.replace(/\{([^}]+)\}/g, ':$1');

describe('GET /openapi.json', () => {
  it('documents 400, 401 and 403 on every route that needs a token, and 414 where a path has parameters', () => {
    const missing = operations().flatMap(({ path, method, responses }) => {
      const wanted = [400, ...(isPublicPath(routePattern(path)) ? [] : [401, 403]), ...(path.includes('{') ? [414] : [])];
      return wanted.filter((code) => responses[code] === undefined).map((code) => `${method.toUpperCase()} ${path}: ${code}`);
    });
    expect(missing).toEqual([]);
    expect(operations().length).toBeGreaterThan(50);
  });

  it('documents a 204 without content', () => {
    const with204 = operations().filter((o) => o.responses['204']);
    expect(with204.map((o) => `${o.method.toUpperCase()} ${o.path}`)).toEqual(expect.arrayContaining(['DELETE /tokens/{tokenId}', 'DELETE /cadence-assignments/{segment}']));
    for (const o of with204) expect(o.responses['204'], `${o.method} ${o.path}`).toEqual({ description: 'No Content' });
  });

  it('is valid OpenAPI 3.0 where JSON Schema differs: exclusiveMinimum and exclusiveMaximum are booleans', () => {
    const numeric: string[] = [];
    const walk = (node: unknown, at: string) => {
      if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${at}/${i}`));
      else if (node && typeof node === 'object')
        for (const [k, v] of Object.entries(node)) {
          if ((k === 'exclusiveMinimum' || k === 'exclusiveMaximum') && typeof v !== 'boolean') numeric.push(`${at}/${k}`);
          walk(v, `${at}/${k}`);
        }
    };
    expect(doc.openapi).toMatch(/^3\.0\./);
    walk(doc.paths, '');
    expect(numeric).toEqual([]);
  });
});
