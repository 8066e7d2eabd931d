/** Mirrors IVehicleRegistry.VehicleClass; the numbers are part of the ABI. */
export enum VehicleClass {
  Motorcycle = 0,
  Car = 1,
  Van = 2,
  Truck = 3,
  Bus = 4,
  Emergency = 5,
}

/** Mirrors IVehicleRegistry.VehicleStatus; `None` is what an unknown vehicle reads as. */
export enum VehicleStatus {
  None = 0,
  Active = 1,
  Suspended = 2,
  Stolen = 3,
  Scrapped = 4,
}
