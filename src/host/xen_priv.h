/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the Xen host modules (src/host/xendom.c, actuator_xen.c):
 * built only with VMS_HAVE_XEN. */
#ifndef VMSIGHT_HOST_XEN_PRIV_H
#define VMSIGHT_HOST_XEN_PRIV_H

#include <xenctrl.h>

#include <vmsight/xenhost.h>

/* The libxenctrl handle of @h (open while @h is), logging silently. */
xc_interface *xen_host_xch(struct vms_xen_host *h);

#endif
