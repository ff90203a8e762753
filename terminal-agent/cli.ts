/** CLI entries of the terminal agent (placeholder until its issue lands). */
export async function terminalMain(_argv: string[]): Promise<number> {
  process.stderr.write('not implemented yet\n');
  return 1;
}
export const simulateMain = terminalMain;
export const enrollMain = terminalMain;
