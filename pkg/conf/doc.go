// Package conf parses the NATS server configuration format, so that an
// operator's existing nats-server.conf is read unchanged and gives the
// same values nats-server's own parser gives.
//
// The package owns the syntax only: it turns text into maps, arrays and
// scalars. It knows nothing of option names, defaults or which keys are
// valid; that is the option layer's job, which uses the positions this
// package records to report "file:line:col: ..." for bad or unknown keys.
// It depends on the standard library alone and does no I/O beyond
// reading the files it is given and the files they include.
//
// # The format
//
// A configuration is a list of entries, one per line or separated by
// ';' or ','. The whole file may be wrapped in braces, as in JSON.
//
//	# comment, and so is // to the end of the line
//	port: 4222           # ':' or '=' or just white space between key and value
//	server_name = "n1"; debug true
//
//	cluster {            # a map; entries separated by new lines, ';' or ','
//	  name: c1
//	  routes = [         # an array; elements separated by ',' or new lines,
//	    nats://a:6222    # trailing commas allowed
//	    nats://b:6222,
//	  ]
//	}
//
// Keys are bare words (ending at white space, '=', ':' or '{') or are
// quoted with " or '. Case is kept; the option layer lower-cases.
//
// Values:
//
//   - Strings: "double quoted" with the escapes \t \n \r \" \\ and \xHH
//     (any other escape is an error); 'single quoted', taken as written;
//     or bare, ending at white space, a new line, ';', ',', ']' or '}'.
//     Bare strings interpret the same escapes, and a bare string may
//     hold ':', '=', '#' or '//' ("nats://host:4222"). Quoted strings
//     may span lines.
//   - Block strings: '(' followed by text up to a line holding only
//     ')'; the text is taken as written, including the line break after
//     '(' and the one before ')'. Used for PEM blocks and JWTs.
//   - Integers, int64: "4222", "-1", with an optional size suffix in any
//     letter case: k, m, g, t, p, e multiply by powers of 1000 and kb,
//     ki, kib, mb, mi, mib, ... by powers of 1024. So 1k is 1000, 1KB
//     and 1Ki are 1024, 2m is 2000000 and 2MB is 2097152. Beware: "2m"
//     is a number, not two minutes.
//   - Floats, float64: "1.5", "-0.25"; they must start with a digit.
//   - Booleans: true/false, yes/no, on/off, unquoted, in any letter case.
//     A quoted "true" is a string.
//   - Datetimes, time.Time: ISO 8601 in Zulu form only,
//     2024-01-31T12:00:00Z.
//   - Other values that start with a digit are strings: "127.0.0.1:4222",
//     "10s", "1h30m", "5e7bcd". Durations are therefore strings (or, as
//     the trap above shows, sometimes integers); the option layer
//     converts them.
//   - Maps, map[string]any, and arrays, []any, nest freely; arrays may
//     mix types.
//
// A later entry with the same key replaces the earlier one.
//
// Variables: an unquoted value "$NAME" is replaced by the value of the
// key NAME set earlier in the same map or an enclosing one (innermost
// first), or else by the environment variable NAME, whose text is parsed
// as a value (PORT=4222 gives an integer). A top-level key can so serve
// as a variable for later entries. An undefined variable is an error, as
// is a cycle among environment variables. Unquoted values that look
// like bcrypt hashes ("$2a$11$...") are strings, not variables. Inside
// quotes "$" has no meaning.
//
// Includes: an entry "include <path>" (the path bare or quoted) parses
// the named file and merges its top-level keys into the current map, at
// the top level or inside a block. A relative path is relative to the
// directory of the file holding the directive (the current directory
// for Parse). The included file is parsed on its own and does not see
// the including file's variables, but keys it sets can be used as
// variables after the directive. Include cycles are errors.
//
// # Differences from nats-server
//
// Where nats-server accepts a configuration, this package returns the
// same values. Where nats-server misbehaves, this package reports an
// error or reads the obvious meaning instead:
//
//   - An integer written directly before ']' ("[1, 2]") is an integer;
//     nats-server fails on it.
//   - A size that does not fit in 64 bits ("16eb") or has an unknown
//     suffix ("1kbb") is an error; nats-server wraps around or silently
//     drops the key.
//   - A key with no value ("port:" at the end of the file or before
//     '}' or ';') is an error; nats-server stores an empty string or
//     garbles the enclosing map.
//   - An unterminated top-level '{', quoted key or string is an error
//     even at the end of the file.
//   - A block string may close with ')' on the last line of the file
//     or before "\r\n"; nats-server keeps the ')' or reads on.
//   - An absolute include path is used as is; nats-server appends it to
//     the including file's directory. Include paths may start with a
//     digit. A leading UTF-8 byte order mark is ignored.
//   - "cluster{" ends the key at '{'; stray ';' or ',' between entries
//     are skipped rather than taken as part of the next key.
//   - An environment variable's text must be exactly one value.
//   - "$2b$", "$2x$" and "$2y$" bcrypt hashes are strings, as "$2a$" is.
//   - A lone '/' that does not start a "//" comment is an error after
//     a value and part of the key before a key; nats-server skips it.
//
// # API
//
// Parse and ParseFile return plain values. ParseWithPositions and
// ParseFileWithPositions wrap every value, at every depth, in an *Item
// holding its file, line and column, the position of its key and
// whether a variable referred to it; Unwrap and UnwrapMap remove the
// wrapping. Digest checksums a parsed configuration, for reload change
// detection. Every parse error is an *Error naming file, line and
// column and what was expected there:
//
//	nats.conf:12:15: expected a new line, ';' or ',' after the value of 'port', found 'x'
//	accounts.conf:3:9: unterminated map for 'users': expected '}' before end of file (included from nats.conf:40:3)
package conf
