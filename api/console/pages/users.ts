import type { ConsolePages } from './index';

/** (being written) */
export const userPages: ConsolePages = async () => {};
