// Command feedctl is Lenta's admin tool: it mints tokens, publishes events
// to a running feedd and reads feeds. Run `feedctl help` for the commands.
//
// feedctl only wires: it talks to feedd over HTTP like any client and signs
// tokens with the same secret (FEED_AUTH_SECRET, or --secret-file). It must
// never print the secret, nor print a token anywhere but the token
// command's standard output.
//
// Adding a command is one function with the cmdFunc signature plus one
// entry in commands.
package main
