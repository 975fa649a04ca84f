#!/bin/busybox sh
# Guest /init: mount the pseudo file systems, keep the driver core from binding drivers on its own (every bind is a
# trace step), load the drivers, then hand the second serial port to the agent. If the agent exits, init exits and
# the kernel panics; with panic=-1 and -no-reboot QEMU then quits, so the host sees a dead guest, never a stuck one.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
echo 0 > /sys/bus/pci/drivers_autoprobe
for m in virtio_pci e1000e e1000 virtio_net vfio vfio_iommu_type1 vfio_pci; do
  /bin/busybox modprobe "$m" 2>/dev/null || echo "init: modprobe $m failed (built in?)"
done
# Built-in drivers (virtio-pci) bound before autoprobe was off: unbind them so that every device starts unbound.
for d in /sys/bus/pci/drivers/virtio-pci/0000:*; do
  [ -e "$d" ] && echo "${d##*/}" > /sys/bus/pci/drivers/virtio-pci/unbind
done
echo "init: starting the agent on /dev/ttyS1"
exec /bin/agent /dev/ttyS1
