// Package contextcmd implements `sluice context`: the stored connection
// contexts natscli also reads and writes. One file per verb; each verb
// has an options struct, a constructor that builds the cobra command
// and a run function. Only validate (and info --connect) connect.
package contextcmd
