import type { ConsolePages } from './index';

/** (being written) */
export const cadencePages: ConsolePages = async () => {};
