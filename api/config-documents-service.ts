import { isDeepStrictEqual } from 'node:util';
import { appendAuditEvent } from '../db/audit-events';
import {
  configDocumentVersions,
  insertConfigDocumentVersion,
  lockConfigDocument,
  newestConfigDocument,
  type ConfigDocumentRow,
} from '../db/config-documents';
import type { z } from 'zod';
import type { Sql } from '../db/sql';
import { resolutionMatrixSchema, type ResolutionMatrix } from '../domain/resolution-matrix';
import { authorityMatrixSchema, type AuthorityMatrix } from '../domain/authority-matrix';
import { validationIssue, validationIssues, zodErrorLine } from '../config/validation-issues';
import { documentTextIssues } from '../domain/text';
import { DomainError } from './errors';

/**
 * Configuration documents edited through the API (table config_documents): the resolution matrix and
 * the authority matrix. Every save is a new immutable version, numbered 1, 2, ... per tenant and
 * document; the newest is in force. Until the first save, the file default (config/*.json, loaded by
 * the caller) is in force as version 0, which is never stored.
 */

export const CONFIG_DOCUMENT_NAMES = ['resolution_matrix', 'authority_matrix'] as const;
export type ConfigDocumentName = (typeof CONFIG_DOCUMENT_NAMES)[number];

/** The document type behind each name. */
export interface ConfigDocumentTypes {
  resolution_matrix: ResolutionMatrix;
  authority_matrix: AuthorityMatrix;
}

export const CONFIG_DOCUMENT_SCHEMAS = {
  resolution_matrix: resolutionMatrixSchema,
  authority_matrix: authorityMatrixSchema,
} as const satisfies { [N in ConfigDocumentName]: z.ZodType<ConfigDocumentTypes[N]> };

export interface ConfigDocumentVersion<N extends ConfigDocumentName = ConfigDocumentName> {
  name: N;
  /** 1, 2, ... for saved versions; 0 for the file default while nothing is saved. */
  version: number;
  document: ConfigDocumentTypes[N];
  /** Who saved it; 'config' for the file default. */
  createdBy: string;
  /** ISO instant of the save; null for the file default. */
  createdAt: string | null;
}

export interface ConfigDocumentsDeps {
  sql: Sql;
  tenantId: string;
  /** What is in force while a document has no saved version (config/resolution-matrix.json, config/authority-matrix.json). */
  defaults: ConfigDocumentTypes;
}

/** The actor named for the file defaults. */
export const DEFAULT_ACTOR = 'config';

type Row = ConfigDocumentRow;

export function createConfigDocuments(deps: ConfigDocumentsDeps) {
  const { sql, tenantId } = deps;

  function assertName(name: string): asserts name is ConfigDocumentName {
    if (!(CONFIG_DOCUMENT_NAMES as readonly string[]).includes(name)) throw new DomainError('not_found', `configuration document ${name} not found`);
  }

  /** A stored version, parsed again so that defaults added to the format since it was saved apply. */
  function toVersion<N extends ConfigDocumentName>(name: N, row: Row): ConfigDocumentVersion<N> {
    const parsed = CONFIG_DOCUMENT_SCHEMAS[name].safeParse(row.document);
    if (!parsed.success)
      throw new Error(`${name} version ${row.version} of tenant ${tenantId} no longer validates: ${zodErrorLine(parsed.error)}`);
    return {
      name,
      version: row.version,
      document: parsed.data as ConfigDocumentTypes[N],
      createdBy: row.created_by,
      createdAt: row.created_at.toISOString(),
    };
  }

  /** Checks a document without saving it: 400 validation_failed with every issue by path; answers the parsed document. */
  function validate<N extends ConfigDocumentName>(name: N, document: unknown): ConfigDocumentTypes[N] {
    assertName(name);
    const parsed = CONFIG_DOCUMENT_SCHEMAS[name].safeParse(document);
    // Names and notes in a matrix follow the text rules of every other text (domain/text.ts).
    const textIssues = documentTextIssues(document, ['body']).map((i) => validationIssue(i.path, 'invalid_text', i.message));
    if (!parsed.success || textIssues.length > 0)
      throw new DomainError('validation_failed', `invalid ${name.replace('_', ' ')}`, { issues: [...(parsed.success ? [] : validationIssues(parsed.error, ['body'])), ...textIssues] });
    return parsed.data as ConfigDocumentTypes[N];
  }

  const fileDefault = <N extends ConfigDocumentName>(name: N): ConfigDocumentVersion<N> => ({
    name,
    version: 0,
    document: deps.defaults[name],
    createdBy: DEFAULT_ACTOR,
    createdAt: null,
  });

  return {
    /** The version in force: the newest saved one, else the file default as version 0. */
    async current<N extends ConfigDocumentName>(name: N): Promise<ConfigDocumentVersion<N>> {
      assertName(name);
      const row = await newestConfigDocument(sql, tenantId, name);
      return row ? toVersion(name, row) : fileDefault(name);
    },

    /** Every saved version, newest first (empty while the file default is in force). */
    async history<N extends ConfigDocumentName>(name: N): Promise<ConfigDocumentVersion<N>[]> {
      assertName(name);
      return (await configDocumentVersions(sql, tenantId, name)).map((r) => toVersion(name, r));
    },

    /** Checks a document without saving it: 400 validation_failed with every issue by path. */
    validate,

    /**
     * Validates and saves a document as the next version, in force at once, with an audit event keyed
     * by that version. The document in force again (a retried PUT) changes nothing: it answers the
     * version in force, and no version or audit event is added.
     * 400 validation_failed (issues by path, e.g. body.rules.3.ownerTeam) when it is not valid.
     */
    async save<N extends ConfigDocumentName>(name: N, document: unknown, actor: string): Promise<ConfigDocumentVersion<N>> {
      const valid = validate(name, document);
      return sql.begin(async (tx) => {
        await lockConfigDocument(tx, tenantId, name);
        const newest = await newestConfigDocument(tx, tenantId, name);
        if (newest) {
          const inForce = CONFIG_DOCUMENT_SCHEMAS[name].safeParse(newest.document);
          if (inForce.success && isDeepStrictEqual(inForce.data, valid)) return toVersion(name, newest);
        }
        const version = (newest?.version ?? 0) + 1;
        const row = await insertConfigDocumentVersion(tx, { tenantId, name, version, document: valid, createdBy: actor });
        await appendAuditEvent(tx, {
          eventKey: `config-document-saved:${tenantId}:${name}:${version}`,
          tenantId,
          actor,
          type: 'config_document_saved',
          details: { name, version },
        });
        return toVersion(name, row);
      });
    },
  };
}

export type ConfigDocumentsService = ReturnType<typeof createConfigDocuments>;
