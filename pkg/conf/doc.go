// Package conf parses the NATS server configuration format.
package conf
