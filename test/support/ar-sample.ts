import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * IBM's public AR sample lives in shared/ beside the repository (as CI clones it). Tests on the real
 * data skip, visibly, in a checkout without it; the shipped extract (dev/demo-invoices.csv) still runs.
 */
export const AR_SAMPLE_PATH = path.resolve(__dirname, '../../../shared/data/ibm-accounts-receivable.csv');
export const hasArSample = existsSync(AR_SAMPLE_PATH);
export const arSampleText = (): string => (hasArSample ? readFileSync(AR_SAMPLE_PATH, 'utf8') : '');
