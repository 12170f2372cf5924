/**
 * Clusters: several nodes joined by faultline's own network fault layer. The switch
 * (one private unix socket per node, QEMU's `-netdev stream` framing), the frame
 * codecs (stream framing, Ethernet/ARP/IPv4/TCP/UDP headers), the nodes' addresses,
 * the link fault decision and its timing, frame records for the trace, live control
 * (`set-link-fault-state`, `query-link-fault-state`) and the pcapng writer.
 *
 * @example
 * ```ts
 * import { NetSwitch } from "./src/net/mod.ts";
 *
 * await using net = await NetSwitch.start({ nodes: ["n1", "n2"], clock, plan, sinks: [(r) => trace.append(r)] });
 * // per node: buildInitramfs({ ..., network: net.guestNetwork(node) }),
 * //           Vm.start({ ..., network: net.qemuNetwork(node) }), then:
 * await net.waitAllConnected(10_000);
 * net.setLinkFaultState({ state: "partition", sides: [["n1"], ["n2"]] });
 * ```
 *
 * @module
 */

export {
  DEFAULT_NETWORK,
  FIRST_HOST,
  guestNetworkOf,
  type Ipv4Network,
  ipv4ToString,
  MAC_PREFIX,
  type NodeAddress,
  nodeAddresses,
  nodeMac,
  parseNetwork,
} from "./addresses.ts";
export { FrameStreamError, NetError, NodeNotConnectedError } from "./errors.ts";
export {
  type ArpView,
  decodeFrame,
  describeFrame,
  ETHERNET_HEADER_BYTES,
  ETHERTYPE,
  ethertypeName,
  formatIpv4,
  formatMac,
  type FrameView,
  IP_PROTOCOL,
  ipProtocolName,
  type Ipv4View,
  parseMac,
  TCP_FLAGS,
  type TcpFlag,
  tcpFlagNames,
} from "./frame.ts";
export { describeFrameFaults, frameRecord, type FrameRecordInput } from "./frame_record.ts";
export {
  describeLinkFaultState,
  LINK_LIVE_STATES,
  linkLiveArguments,
  type LinkLiveRequest,
  parseLinkLiveArguments,
} from "./link_live.ts";
export {
  type ClockMoment,
  combineDecisions,
  compileLinkPlan,
  decideFrame,
  type Delivery,
  effectLinks,
  initialLinkState,
  isWaiting,
  type LinkAction,
  type LinkDecision,
  type LinkFrame,
  linkKey,
  type LinkPlan,
  type LinkPlanState,
  type LinkRule,
  type LinkRuleState,
  type LinkStep,
  type LiveLinkFault,
  matchesFrameFilter,
  scopeLinks,
  setLiveLinkFault,
} from "./link_plan.ts";
export { LinkScheduler, type SendFunction } from "./link_scheduler.ts";
export {
  enhancedPacketBlock,
  frameComment,
  interfaceDescriptionBlock,
  LINKTYPE_ETHERNET,
  PCAPNG_BLOCK,
  PCAPNG_BYTE_ORDER_MAGIC,
  type PcapngInterface,
  type PcapngPacket,
  PcapngWriter,
  sectionHeaderBlock,
} from "./pcapng.ts";
export {
  encodeStreamFrame,
  FrameSplitter,
  type FrameSplitterOptions,
  QEMU_NET_BUFSIZE,
  STREAM_LENGTH_BYTES,
} from "./stream_framing.ts";
export { type NetEvent, NetSwitch, type NetSwitchOptions, type SwitchCounters } from "./switch.ts";
