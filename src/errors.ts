// Errors whose message is already a full sentence for the user, naming what is wrong and what to do. The CLI
// prints their message alone and exits 2; anything else is a bug, and its stack is printed with LEAKWARDEN_DEBUG.
export class UserError extends Error {}
