import { SLIPWAY_VERSION } from '../../version.js';
import { defineCommand } from '../command.js';

export const versionCommand = defineCommand({
  name: 'version',
  summary: 'Print the version',
  options: [],
  run({ io }) {
    io.stdout(`slipway ${SLIPWAY_VERSION}\n`);
  },
});
