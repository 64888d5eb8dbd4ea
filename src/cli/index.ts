export async function runCli(argv: string[]): Promise<number> { console.log("hello", argv); return 0; }
