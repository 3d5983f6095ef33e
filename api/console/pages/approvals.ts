import type { ConsolePages } from './index';

/** (being written) */
export const approvalPages: ConsolePages = async () => {};
