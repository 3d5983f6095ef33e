import type { ConsolePages } from './index';

/** (being written) */
export const erpSyncPages: ConsolePages = async () => {};
