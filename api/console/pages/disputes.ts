import type { ConsolePages } from './index';

/** (being written) */
export const disputePages: ConsolePages = async () => {};
