import type { ConsolePages } from './index';

/** (being written) */
export const importPages: ConsolePages = async () => {};
