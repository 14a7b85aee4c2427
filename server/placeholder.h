/*
 * The built-in placeholder server: what a container with no command and no
 * runnable image runs, so infrastructure code (load balancer health checks,
 * service discovery, `curl`) reaches a steady state without images.
 *
 *   ecslocal placeholder [--port N]... [--body TEXT] [--content-type TYPE]
 *
 *   --port N            listen on 0.0.0.0:N and, where IPv6 exists, [::]:N
 *                       (repeatable; 1-65535; none: serve nothing, just wait)
 *   --body TEXT         the response body (default "ok\n")
 *   --content-type T    override the Content-Type; by default
 *                       application/json when the body starts (after
 *                       blanks) with '{' or '[', else text/plain; charset=utf-8
 *
 * Every request, whatever its method and path, gets 200 with the body
 * (HEAD: headers only), Content-Length, a Date, and HTTP/1.1 keep-alive
 * (Connection: close for HTTP/1.0 without keep-alive, for "Connection:
 * close", and after a chunked request body).  Connections idle for 60 s are
 * closed; at most 512 are open at once.  One line on stdout when listening;
 * SIGTERM or SIGINT exits 0; a port that cannot be bound exits 1.
 */
#ifndef ECSL_PLACEHOLDER_H
#define ECSL_PLACEHOLDER_H

/* argv[0] is the subcommand name ("placeholder"); returns the exit status. */
int placeholder_main(int argc, char **argv);

#endif
