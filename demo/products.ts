/** The shop's catalogue. Prices in cents. */
export interface Product {
  readonly id: ProductId;
  readonly name: string;
  readonly price: number;
}

export const products = [
  { id: 'tea', name: 'Earl Grey tea', price: 650 },
  { id: 'coffee', name: 'Ethiopian coffee', price: 1190 },
  { id: 'scone', name: 'Scone', price: 280 },
  { id: 'jam', name: 'Strawberry jam', price: 420 },
] as const satisfies readonly { id: string; name: string; price: number }[];

export type ProductId = (typeof products)[number]['id'];

export function productById(id: unknown): Product | null {
  return products.find((p) => p.id === id) ?? null;
}
