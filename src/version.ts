import pkg from '../package.json';

export const VERSION: string = pkg.version;
export const TOOL = `ken ${pkg.version}`;
