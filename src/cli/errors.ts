/** CLI failures with their exit status: 1 for an operational error, 2 for bad usage. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message);
    this.name = 'CliError';
  }
}

export const usage = (message: string): CliError => new CliError(message, 2);
export const failure = (message: string): CliError => new CliError(message, 1);
