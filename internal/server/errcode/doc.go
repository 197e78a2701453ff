// Package errcode answers errors: the error body that the registry's clients and Harbor's clients both parse ({"errors":[{"code":"...","message":"..."}]}), and the one mapping from an error to its status that every endpoint uses.
package errcode
