import type { ConsolePages } from './index';

/** (being written) */
export const unappliedCashPages: ConsolePages = async () => {};
