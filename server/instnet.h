/*
 * Networking inside a container instance (an emulated EC2 instance's
 * namespace, ecsl-i-<id>), for the EC2 launch type's host and bridge
 * network modes:
 *
 *   host     the task's containers join the instance's namespace; the
 *            metadata endpoint 169.254.170.2 lives on its loopback.
 *   bridge   each container has a namespace of its own (ecsl-c-...) on the
 *            instance's bridge ecsl-d0 (172.17.0.0/16, Docker's default),
 *            with 169.254.170.2 on its own loopback; portMappings are
 *            published on the instance's address by DNAT (table ip
 *            ecsl-nat in the instance namespace), as Docker publishes them.
 */
#ifndef ECSL_INSTNET_H
#define ECSL_INSTNET_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct scope;

/* The instance namespace of a task's container instance, once it exists
 * (with its metadata endpoint).  name gets its name.  0 or -1 with err. */
int instnet_instance(const struct scope *s, const char *container_instance_arn,
                     char *name, size_t len, char *err, size_t errlen);

/* Give every container of a bridge-mode task its namespace on the
 * instance's bridge, and publish its ports.  containers_netns (a JSON
 * object) gets container name -> namespace name; the addresses are
 * recorded in the task document's _rt.bridge_ips by the caller from
 * ips_out.  0 or -1 with err. */
int instnet_bridge_task(const struct scope *s, const char *task_id, json_t *task,
                        const char *instance_ns, json_t *netns_out, json_t *ips_out,
                        char *err, size_t errlen);

/* Remove a bridge-mode task's namespaces. */
void instnet_bridge_task_remove(const char *task_id, json_t *netns_names);

/* Publish the ports of every bridge-mode task on the instance (called
 * after a task starts or stops there). */
int instnet_publish(const struct scope *s, const char *container_instance_arn,
                    char *err, size_t errlen);

#endif
